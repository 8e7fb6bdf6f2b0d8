/**
 * The visitor's web client: opened by a venue's QR code (or NFC tag), it checks
 * in from the URL's fragment, which the browser never sends to a server.
 */
import {
  CodeError,
  DecodeError,
  PlacecodeError,
  autoCheckoutAt,
  liveVerificationCode,
  venueCodeFromUrl,
} from "../protocol/index.js";
import {
  DiaryError,
  MAX_PEOPLE,
  REMINDER_CHOICES,
  checkInOf,
  checkOut,
  deleteVisit,
  diaryFromJson,
  due,
  emptyDiary,
  expire,
  purge,
  scan,
  setPeople,
  setReminder,
  type DiaryState,
  type VisitJson,
} from "./diary.js";
import { el, replaceChildren } from "./dom.js";
import { browserLanguage, categoryLabel, isTextKey, text, type Language, type TextKey } from "./i18n.js";
import { Store } from "./store.js";
import {
  OfflineError,
  RefusedError,
  contact,
  prepareReport,
  report,
  sync,
  type ReportItem,
} from "./sync.js";

interface App {
  store: Store;
  state: DiaryState;
  language: Language;
  /** the last thing that happened, for the status line */
  notice: { text: string; error: boolean } | null;
  busy: boolean;
  pendingReport: { tan: string; items: ReportItem[] } | null;
}

const now = (): number => Math.floor(Date.now() / 1000);

function t(app: App, key: TextKey, values: Record<string, string | number> = {}): string {
  return text(app.language, key, values);
}

function locale(app: App): string {
  return app.language === "zh" ? "zh-CN" : "en-GB";
}

function time(app: App, seconds: number): string {
  return new Date(seconds * 1000).toLocaleTimeString(locale(app), { hour: "2-digit", minute: "2-digit" });
}

function dateTime(app: App, seconds: number): string {
  return new Date(seconds * 1000).toLocaleString(locale(app), {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** A protocol or diary error as a message in the visitor's language. */
function describe(app: App, error: unknown): string {
  if (error instanceof OfflineError) return t(app, "offline");
  if (error instanceof RefusedError) return t(app, "error.refused", { message: error.message });
  if (error instanceof CodeError) {
    const m = error.message;
    if (m.includes("expired")) return t(app, "error.expired");
    if (m.includes("future")) return t(app, "error.future");
    if (m.includes("not the code")) return t(app, "error.not-the-code");
    return t(app, "error.unsigned");
  }
  if (error instanceof DecodeError) {
    return t(app, error.message.includes("update the app") ? "error.version" : "error.not-ours");
  }
  if (error instanceof DiaryError) {
    const key = `error.${error.message}`;
    return isTextKey(key) ? t(app, key) : t(app, "error.other", { message: error.message });
  }
  if (error instanceof PlacecodeError || error instanceof Error) return t(app, "error.other", { message: error.message });
  return t(app, "error.other", { message: String(error) });
}

async function save(app: App): Promise<void> {
  await app.store.save(app.state);
}

async function reload(app: App): Promise<void> {
  const stored = await app.store.load();
  app.state = stored === null ? emptyDiary() : diaryFromJson(stored);
}

/** Runs `action` on the diary; on failure the diary is read back as it was stored. */
async function act(app: App, action: () => Promise<string | null> | string | null): Promise<void> {
  app.busy = true;
  app.notice = null;
  render(app);
  try {
    // another tab (a camera app opens one per scan) may have changed the diary
    await reload(app);
    const message = await action();
    await save(app);
    app.notice = message === null ? null : { text: message, error: false };
  } catch (error) {
    await reload(app);
    app.notice = { text: describe(app, error), error: true };
  } finally {
    app.busy = false;
    render(app);
  }
}

function notify(app: App, message: string): void {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  void navigator.serviceWorker?.getRegistration().then((registration) => {
    if (registration) void registration.showNotification(t(app, "title"), { body: message, tag: "placecode" });
    else new Notification(t(app, "title"), { body: message });
  });
}

function closedMessage(app: App, visit: VisitJson, automatic: boolean): string {
  return automatic
    ? t(app, "autoCheckedOut", { venue: visit.name, time: time(app, visit.leftAt) })
    : t(app, "checkedOutNow", { venue: visit.name, from: time(app, visit.enteredAt), to: time(app, visit.leftAt) });
}

/** Checks in (or out) with the code in the page's URL, then forgets the URL. */
async function openCode(app: App, url: string): Promise<void> {
  // the code key must not linger in the history or a bookmark
  history.replaceState(null, "", location.pathname + location.search);
  await act(app, () => {
    const code = venueCodeFromUrl(url);
    const people = app.state.checkIn?.people ?? 1;
    const result = scan(app.state, code, now(), people);
    if (result.checkedIn !== null) {
      const stay = result.checkedIn;
      const closed = result.checkedOut;
      const before = closed === null ? "" : closedMessage(app, closed, closed.leftAt < now() - 1) + " ";
      return before + t(app, "checkedInNow", { venue: stay.code.name });
    }
    return result.checkedOut === null ? null : closedMessage(app, result.checkedOut, false);
  });
}

function tick(app: App): void {
  const current = now();
  const closed = expire(app.state, current);
  const { reminder, longStay } = due(app.state, current);
  const venue = app.state.checkIn === null ? "" : checkInOf(app.state)?.code.name ?? "";
  if (closed !== null || reminder || longStay) {
    let message = "";
    if (closed !== null) message = closedMessage(app, closed, true);
    else if (longStay) message = t(app, "longStay", { venue });
    else message = t(app, "reminderText", { venue });
    notify(app, message);
    app.notice = { text: message, error: longStay };
    void save(app).then(() => render(app));
    return;
  }
  const stay = checkInOf(app.state);
  const code = document.getElementById("verification-code");
  if (stay !== null && code !== null) {
    const digits = liveVerificationCode(stay, current);
    const shown = digits === null ? "" : `${digits.slice(0, 3)} ${digits.slice(3)}`;
    if (code.textContent !== shown) code.textContent = shown;
  }
}

// --- rendering ----------------------------------------------------------------------

function header(app: App): HTMLElement {
  const other: Language = app.language === "zh" ? "en" : "zh";
  return el(
    "header",
    {},
    el("h1", {}, t(app, "title")),
    el(
      "button",
      {
        type: "button",
        class: "language",
        lang: other === "zh" ? "zh-Hans" : "en",
        "aria-label": t(app, "switchLanguageLabel"),
        onclick: () => {
          app.language = other;
          app.state.language = other;
          void save(app);
          render(app);
        },
      },
      t(app, "switchLanguage"),
    ),
  );
}

function notice(app: App): HTMLElement {
  const n = app.notice;
  return el(
    "div",
    { id: "notice", class: n?.error ? "notice error" : "notice", role: n?.error ? "alert" : "status" },
    n?.text ?? "",
  );
}

function peopleStepper(app: App, people: number): HTMLElement {
  const change = (delta: number) => () =>
    void act(app, () => {
      setPeople(app.state, people + delta);
      return null;
    });
  return el(
    "div",
    { class: "people", role: "group", "aria-labelledby": "people-label" },
    el("span", { id: "people-label" }, t(app, "people")),
    el(
      "div",
      { class: "stepper" },
      el("button", { type: "button", "aria-label": t(app, "fewerPeople"), disabled: people <= 1, onclick: change(-1) }, "−"),
      el("output", { id: "people", "aria-live": "polite" }, people === 1 ? t(app, "onePerson") : t(app, "peopleCount", { n: people })),
      el("button", { type: "button", "aria-label": t(app, "morePeople"), disabled: people >= MAX_PEOPLE, onclick: change(1) }, "+"),
    ),
  );
}

function reminderPicker(app: App, minutes: number): HTMLElement {
  const select = el(
    "select",
    {
      id: "reminder",
      onchange: (event: Event) => {
        const value = Number((event.target as HTMLSelectElement).value);
        if (value > 0 && "Notification" in window && Notification.permission === "default") {
          void Notification.requestPermission();
        }
        void act(app, () => {
          setReminder(app.state, value);
          return null;
        });
      },
    },
    ...REMINDER_CHOICES.map((m) =>
      el(
        "option",
        { value: m, selected: m === minutes },
        m === 0 ? t(app, "reminderNone") : m < 60 || m % 60 !== 0 ? t(app, "reminderMinutes", { n: m }) : t(app, "reminderHours", { n: m / 60 }),
      ),
    ),
  );
  const blocked = minutes > 0 && (!("Notification" in window) || Notification.permission === "denied");
  return el(
    "div",
    { class: "field" },
    el("label", { for: "reminder" }, t(app, "reminder")),
    select,
    blocked && el("p", { class: "hint" }, t(app, "reminderBlocked")),
  );
}

function stayCard(app: App): HTMLElement {
  const stay = checkInOf(app.state);
  const doc = app.state.checkIn;
  if (stay === null || doc === null) {
    return el(
      "section",
      { id: "stay", class: "card", "aria-labelledby": "stay-title" },
      el("h2", { id: "stay-title" }, t(app, "notCheckedIn")),
      el("p", {}, t(app, "howToCheckIn")),
    );
  }
  const digits = liveVerificationCode(stay, now());
  return el(
    "section",
    { id: "stay", class: "card checked-in", "aria-labelledby": "venue-name" },
    el("p", { class: "overline" }, t(app, "checkedInAt")),
    el("h2", { id: "venue-name" }, stay.code.name),
    el(
      "p",
      { class: "meta" },
      `${categoryLabel(app.language, stay.code.category)} · ${t(app, "since", { time: time(app, stay.enteredAt) })}`,
    ),
    el(
      "div",
      { class: "verify" },
      el("p", { id: "verify-label", class: "overline" }, t(app, "verificationCode")),
      el("p", { id: "verification-code", class: "digits", "aria-describedby": "verify-help" }, digits === null ? "" : `${digits.slice(0, 3)} ${digits.slice(3)}`),
      el("p", { id: "verify-help", class: "hint" }, t(app, "verificationHelp")),
    ),
    el("p", { id: "auto-checkout" }, t(app, "autoCheckout", { time: time(app, autoCheckoutAt(stay)) })),
    peopleStepper(app, doc.people),
    reminderPicker(app, doc.reminderMinutes),
    el(
      "button",
      {
        type: "button",
        id: "check-out",
        class: "primary",
        disabled: app.busy,
        onclick: () => void act(app, () => closedMessage(app, checkOut(app.state, now()), false)),
      },
      t(app, "checkOut"),
    ),
    el("p", { class: "hint" }, t(app, "checkOutHint")),
  );
}

function warningsSection(app: App): HTMLElement | null {
  if (app.state.warnings.length === 0) return null;
  return el(
    "section",
    { id: "warnings", class: "card warning", "aria-labelledby": "warnings-title" },
    el("h2", { id: "warnings-title" }, t(app, "warnings")),
    ...app.state.warnings.map((w) => {
      const input = el("input", { id: `contact-${w.id}`, type: "text", autocomplete: "tel", maxlength: 200 });
      return el(
        "article",
        { class: "exposure", "aria-labelledby": `warning-${w.id}` },
        el(
          "h3",
          { id: `warning-${w.id}` },
          t(app, "warningTitle", { venue: w.venue, from: dateTime(app, w.enteredAt), to: time(app, w.leftAt), n: w.overlapMinutes }),
        ),
        el("p", {}, `${t(app, "evidence")}: `, t(app, `level${w.level}` as TextKey)),
        w.message !== "" && el("p", { class: "authority-message" }, `${t(app, "fromAuthority")}: `, el("q", {}, w.message)),
        w.contactedAt !== null
          ? el("p", { class: "done" }, t(app, "contacted", { time: dateTime(app, w.contactedAt) }))
          : el(
              "form",
              {
                class: "contact",
                onsubmit: (event: Event) => {
                  event.preventDefault();
                  void act(app, async () => {
                    await contact(app.state, w.id, input.value, now());
                    return t(app, "contacted", { time: dateTime(app, now()) });
                  });
                },
              },
              el("h4", {}, t(app, "contact")),
              el("p", { class: "hint" }, t(app, "contactExplain")),
              el("label", { for: `contact-${w.id}` }, t(app, "contactDetails")),
              input,
              el("button", { type: "submit", class: "primary", disabled: app.busy }, t(app, "contactSend")),
            ),
      );
    }),
  );
}

function syncSection(app: App): HTMLElement {
  const last = app.state.lastSyncAt;
  return el(
    "section",
    { id: "sync", class: "card", "aria-labelledby": "sync-button" },
    el(
      "button",
      {
        type: "button",
        id: "sync-button",
        class: "primary",
        disabled: app.busy,
        onclick: () =>
          void act(app, async () => {
            if (!navigator.onLine) throw new OfflineError("offline");
            const result = await sync(app.state, app.store, now());
            void navigator.serviceWorker?.getRegistration().then((r) => r?.update().catch(() => undefined));
            return t(app, "synced", {
              n: result.newBundles,
              kb: Math.ceil(result.downloadedBytes / 1024),
              result: app.state.warnings.length > 0 ? "" : t(app, "noExposure"),
            });
          }),
      },
      app.busy ? t(app, "syncing") : t(app, "sync"),
    ),
    el("p", { class: "hint" }, last === null ? t(app, "neverSynced") : t(app, "lastSync", { time: dateTime(app, last) })),
  );
}

function visitsSection(app: App): HTMLElement {
  const visits = [...app.state.visits].sort((a, b) => b.enteredAt - a.enteredAt);
  const reported = new Set(app.state.reported);
  return el(
    "section",
    { id: "visits", class: "card", "aria-labelledby": "visits-title" },
    el("h2", { id: "visits-title" }, t(app, "visits")),
    visits.length === 0
      ? el("p", {}, t(app, "noVisits", { days: app.state.retentionDays }))
      : el(
          "ul",
          { class: "visits" },
          ...visits.map((v) =>
            el(
              "li",
              {},
              el(
                "div",
                {},
                el("span", { class: "venue" }, v.name),
                el(
                  "span",
                  { class: "when" },
                  t(app, "visitLine", { from: dateTime(app, v.enteredAt), to: time(app, v.leftAt) }),
                  v.people > 1 ? ` · ${t(app, "peopleCount", { n: v.people })}` : "",
                  reported.has(v.id) ? ` · ${t(app, "reportedMark")}` : "",
                ),
              ),
              el(
                "button",
                {
                  type: "button",
                  class: "delete",
                  "aria-label": t(app, "deleteVisit", { venue: v.name }),
                  onclick: () =>
                    void act(app, () => {
                      deleteVisit(app.state, v.id);
                      return t(app, "deleted", { venue: v.name });
                    }),
                },
                t(app, "delete"),
              ),
            ),
          ),
        ),
    el("p", { class: "hint" }, t(app, "keptDays", { days: app.state.retentionDays })),
  );
}

function reportSection(app: App): HTMLElement {
  const pending = app.pendingReport;
  const tanInput = el("input", {
    id: "tan",
    type: "text",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    maxlength: 20,
    value: pending?.tan ?? "",
  });
  const body = pending
    ? el(
        "div",
        { id: "report-review" },
        el("p", {}, t(app, "reportWill")),
        el(
          "ul",
          {},
          ...pending.items.map((item) =>
            el(
              "li",
              {},
              t(app, "reportItem", {
                venue: item.visit.name,
                from: dateTime(app, item.visit.enteredAt),
                to: time(app, item.visit.leftAt),
                n: item.entries.length,
              }),
            ),
          ),
        ),
        el(
          "button",
          {
            type: "button",
            id: "report-send",
            class: "primary danger",
            disabled: app.busy,
            onclick: () =>
              void act(app, async () => {
                const { tan, items } = pending;
                app.pendingReport = null;
                await report(app.state, app.store, now(), tan, items);
                return t(app, "reported");
              }),
          },
          t(app, "reportSend"),
        ),
        el(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: () => {
              app.pendingReport = null;
              render(app);
            },
          },
          t(app, "reportCancel"),
        ),
      )
    : el(
        "form",
        {
          onsubmit: (event: Event) => {
            event.preventDefault();
            void act(app, () => {
              const items = prepareReport(app.state, now());
              if (items.length === 0) throw new DiaryError("nothing-to-report");
              app.pendingReport = { tan: tanInput.value, items };
              return null;
            });
          },
        },
        el("label", { for: "tan" }, t(app, "tan")),
        tanInput,
        el("button", { type: "submit", id: "report-prepare", class: "secondary" }, t(app, "reportPrepare")),
      );
  return el(
    "section",
    { id: "report", class: "card", "aria-labelledby": "report-title" },
    el("h2", { id: "report-title" }, t(app, "report")),
    el("p", { class: "hint" }, t(app, "reportExplain", { days: app.state.retentionDays })),
    body,
  );
}

function render(app: App): void {
  document.documentElement.lang = app.language === "zh" ? "zh-Hans" : "en";
  document.title = t(app, "title");
  const root = document.getElementById("app") as HTMLElement;
  const focused = document.activeElement?.id;
  replaceChildren(
    root,
    header(app),
    el("main", {}, notice(app), warningsSection(app), stayCard(app), syncSection(app), visitsSection(app), reportSection(app)),
  );
  if (focused) document.getElementById(focused)?.focus();
}

async function start(): Promise<void> {
  const root = document.getElementById("app") as HTMLElement;
  const language = browserLanguage(navigator.languages ?? [navigator.language]);
  let store: Store;
  let state: DiaryState;
  try {
    store = await Store.open();
    const stored = await store.load();
    state = stored === null ? emptyDiary() : diaryFromJson(stored);
  } catch (error) {
    replaceChildren(root, el("p", { role: "alert", class: "notice error" }, text(language, "error.storage", { message: String(error) })));
    return;
  }
  const app: App = { store, state, language: state.language ?? language, notice: null, busy: false, pendingReport: null };
  await store.deleteBundles(purge(state, now()));
  const closed = expire(state, now());
  if (closed !== null) app.notice = { text: closedMessage(app, closed, true), error: false };
  await save(app);
  if (location.hash.length > 1) await openCode(app, location.href);
  else render(app);
  window.addEventListener("hashchange", () => {
    if (location.hash.length > 1) void openCode(app, location.href);
  });
  setInterval(() => tick(app), 1000);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !app.busy) void reload(app).then(() => render(app));
  });
  // registered once; later, only a sync (which talks to the service anyway) checks for a release
  if ("serviceWorker" in navigator && navigator.serviceWorker.controller === null) {
    void navigator.serviceWorker.register("sw.js").catch(() => undefined);
  }
}

void start();
