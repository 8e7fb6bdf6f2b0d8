/**
 * The diary at rest: one IndexedDB database. The diary itself is a JSON document
 * encrypted with AES-256-GCM under a WebCrypto key that was generated
 * non-extractable: the page can use it but no script can read its bytes, and
 * IndexedDB keeps it as an opaque CryptoKey; padded, so that its size does not
 * count the visits. Bundles are public (everyone
 * downloads the same) and are kept as they came, checked again before use.
 * Nothing is written to localStorage or cookies.
 */

const DB_NAME = "placecode";
const DB_VERSION = 1;
const KEYS = "keys";
const DIARY = "diary";
const BUNDLES = "bundles";
const KEY_ID = "diary-key";
const DIARY_ID = "diary";
const NONCE_BYTES = 12;
/**
 * The diary's plaintext is padded with spaces (which JSON ignores) to this many
 * bytes, or to the next power of two above: its size tells only the bucket, not
 * the number of visits (about 400 bytes each). The CLI's PAD_MIN_BYTES.
 */
export const PAD_MIN_BYTES = 64 * 1024;

function padded(text: string): Uint8Array<ArrayBuffer> {
  const plain = new TextEncoder().encode(text);
  let size = PAD_MIN_BYTES;
  while (size < plain.length) size *= 2;
  const out = new Uint8Array(size).fill(0x20);
  out.set(plain);
  return out;
}

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB failed"));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error("IndexedDB failed"));
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}

export function openDatabase(): Promise<IDBDatabase> {
  const request = indexedDB.open(DB_NAME, DB_VERSION);
  request.onupgradeneeded = () => {
    const db = request.result;
    for (const name of [KEYS, DIARY, BUNDLES]) {
      if (!db.objectStoreNames.contains(name)) db.createObjectStore(name);
    }
  };
  return promised(request);
}

interface Sealed {
  readonly nonce: Uint8Array<ArrayBuffer>;
  readonly ciphertext: ArrayBuffer;
}

/** The encrypted diary document and the bundle files, in one IndexedDB database. */
export class Store {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly key: CryptoKey,
  ) {}

  /** Opens the store, generating the diary key (non-extractable) the first time. */
  static async open(): Promise<Store> {
    const db = await openDatabase();
    let key = await promised(db.transaction(KEYS).objectStore(KEYS).get(KEY_ID)) as CryptoKey | undefined;
    if (key === undefined) {
      key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
      const tx = db.transaction(KEYS, "readwrite");
      tx.objectStore(KEYS).put(key, KEY_ID);
      await done(tx);
    }
    return new Store(db, key);
  }

  /** The diary document, or null when there is none yet. Throws if it cannot be opened. */
  async load(): Promise<unknown> {
    const sealed = (await promised(this.db.transaction(DIARY).objectStore(DIARY).get(DIARY_ID))) as Sealed | undefined;
    if (sealed === undefined) return null;
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.nonce }, this.key, sealed.ciphertext);
    return JSON.parse(new TextDecoder().decode(plain)) as unknown;
  }

  async save(document: unknown): Promise<void> {
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const plain = padded(JSON.stringify(document));
    const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce }, this.key, plain);
    const tx = this.db.transaction(DIARY, "readwrite");
    tx.objectStore(DIARY).put({ nonce, ciphertext } satisfies Sealed, DIARY_ID);
    await done(tx);
  }

  async putBundles(bundles: readonly (readonly [number, Uint8Array])[]): Promise<void> {
    const tx = this.db.transaction(BUNDLES, "readwrite");
    for (const [sequence, data] of bundles) tx.objectStore(BUNDLES).put(data, sequence);
    await done(tx);
  }

  async getBundle(sequence: number): Promise<Uint8Array | null> {
    const data = (await promised(this.db.transaction(BUNDLES).objectStore(BUNDLES).get(sequence))) as
      | Uint8Array
      | undefined;
    return data ?? null;
  }

  async deleteBundles(sequences: readonly number[]): Promise<void> {
    const tx = this.db.transaction(BUNDLES, "readwrite");
    for (const sequence of sequences) tx.objectStore(BUNDLES).delete(sequence);
    await done(tx);
  }
}
