// Parley agent console: login, agent WebSocket, offers, conversations,
// replies and the customer 360 panel.

import { Api } from './api.js';
import { ReconnectingSocket, agentSocketURL } from './socket.js';
import { Thread, uuid } from './store.js';
import { h } from './dom.js';
import * as i18n from './i18n.js';
import { t, tOr, formatDateTime } from './i18n.js';
import { messageItem, conversationItem, offerCard, customerPanel, channelLabel, statusLabel, slaBadgeText, slaKindLabel } from './views.js';
import { customerActions } from './customer.js';
import { Gamification } from './gamification.js';
import { Cockpit } from './wallboard.js';
import { Inboxes } from './inboxes.js';
import { ConversationTools } from './convstatus.js';
import { SlaAdmin } from './sla-admin.js';
import { Feedback } from './feedback.js';
import { SurveyAdmin } from './surveyadmin.js';
import { CrmAdmin } from './crm-admin.js';
import { Quests } from './quests.js';
import { TemplatePicker } from './templates.js';
import { Softphone } from './softphone.js';

const TOKEN_KEY = 'parley.token';
const PRESENCE_KEY = 'parley.presence';
const PRESENCES = ['available', 'away', 'offline'];
const TYPING_SEND_INTERVAL_MS = 3000;
const TYPING_SHOW_MS = 6000;
const ACK_TIMEOUT_MS = 20000;
const OFFER_ENDED_SHOW_MS = 3000;
const OFFER_GRACE_MS = 5000;
const MAX_BODY_BYTES = 16 << 10;

const storage = {
  get(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {
      // Unavailable storage only costs persistence across reloads.
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      // Same as above.
    }
  },
};

const state = {
  token: storage.get(TOKEN_KEY),
  agent: null,
  threads: new Map(), // conversation id -> Thread
  offers: new Map(), // offer id -> { offer, el, receivedAt, accepting, rejecting, ended }
  openId: null,
  wantOpenId: idFromPath(),
  socket: null,
  lastTypingSent: 0,
  customerKey: '',
};

const api = new Api({ getToken: () => state.token });
const game = new Gamification({ api, toast: (text, kind) => toast(text, kind) });
const cockpit = new Cockpit({ api, getToken: () => state.token, toast: (text, kind) => toast(text, kind) }); // supervisors' wallboard and reports
const inboxes = new Inboxes({ api }); // admins' inbox list with email status
const slaAdmin = new SlaAdmin({ api, toast: (text, kind) => toast(text, kind) }); // admins' SLA policies and calendars
const tools = new ConversationTools({ api, toast: (text, kind) => toast(text, kind), onChange: (th) => { renderList(); if (th.id === state.openId) renderThread(); } }); // pending, snooze, reopen, tags
const surveyAdmin = new SurveyAdmin({ api }); // admins' survey definitions
const crmAdmin = new CrmAdmin({ api }); // supervisors' and admins' Customers page: segments, CSV import, attribute definitions
const quests = new Quests({ api }); // supervisors' quests
const feedback = new Feedback({ api, toast: (text, kind) => toast(text, kind), currentConversation: () => state.openId }); // feedback items
let templates = null; // WhatsApp template picker, made at boot (it needs the DOM)
let softphone = null; // browser softphone panel, when the server configures one

const el = {};

function idFromPath() {
  const m = location.pathname.match(/^\/console\/c\/([^/]+)\/?$/);
  return m ? decodeURIComponent(m[1]) : null;
}

// ---------------------------------------------------------------- boot

function boot() {
  for (const id of [
    'login-view', 'login-form', 'login-email', 'login-password', 'login-submit', 'login-error', 'login-language',
    'app-view', 'connection', 'connection-text', 'presence', 'language', 'agent-name', 'logout',
    'offers', 'offers-heading', 'offer-announcer', 'conversation-list', 'list-empty',
    'conversation-empty', 'conversation-main', 'conversation-title', 'conversation-meta', 'conversation-banner',
    'disposition', 'resolve', 'thread', 'thread-loading', 'typing-indicator', 'message-announcer',
    'composer', 'reply-input', 'reply-private', 'reply-send', 'customer-body', 'toasts',
  ]) {
    el[id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = document.getElementById(id);
  }

  i18n.initLanguage();
  fillLanguageSelects();
  i18n.applyTranslations();
  i18n.onLanguageChange(() => {
    i18n.applyTranslations();
    fillLanguageSelects();
    renderAll({ force: true });
  });

  templates = new TemplatePicker({ api, toast: (text, kind) => toast(text, kind) });
  softphone = new Softphone({ api, toast: (text, kind) => toast(text, kind) });
  bindLogin();
  bindApp();
  setInterval(tick, 1000);
  resume();
}

async function resume() {
  const hadToken = Boolean(state.token);
  try {
    const data = await api.me();
    startSession(data.agent);
  } catch (err) {
    if (err.status === 401 || err.status === 403) {
      forgetToken();
      showLogin(hadToken ? t('login.session_expired') : '');
    } else if (err.status === 0) {
      showLogin(t('error.network'));
    } else {
      showLogin('');
    }
  }
}

function fillLanguageSelects() {
  for (const select of [el.language, el.loginLanguage]) {
    select.replaceChildren(...i18n.LANGUAGES.map((l) => h('option', { value: l.code }, l.label)));
    select.value = i18n.getLanguage();
  }
}

// ---------------------------------------------------------------- login

function showLogin(message) {
  el.appView.hidden = true;
  el.loginView.hidden = false;
  setLoginError(message);
  document.title = t('app.title');
  el.loginEmail.focus();
}

function setLoginError(message) {
  el.loginError.textContent = message || '';
  el.loginError.hidden = !message;
}

function bindLogin() {
  el.loginLanguage.addEventListener('change', () => i18n.setLanguage(el.loginLanguage.value));
  el.loginForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const email = el.loginEmail.value.trim();
    const password = el.loginPassword.value;
    if (!email || !password) {
      setLoginError(t('login.required'));
      (email ? el.loginPassword : el.loginEmail).focus();
      return;
    }
    setLoginError('');
    el.loginSubmit.disabled = true;
    el.loginSubmit.textContent = t('login.submitting');
    try {
      const data = await api.login(email, password);
      state.token = data.token || null;
      if (state.token) storage.set(TOKEN_KEY, state.token);
      el.loginPassword.value = '';
      startSession(data.agent);
    } catch (err) {
      if (err.status === 401 || err.status === 403) setLoginError(t('login.invalid'));
      else if (err.status === 0) setLoginError(t('error.network'));
      else setLoginError(err.message || t('error.generic', { code: err.code }));
      el.loginPassword.select();
    } finally {
      el.loginSubmit.disabled = false;
      el.loginSubmit.textContent = t('login.submit');
    }
  });
}

function forgetToken() {
  state.token = null;
  storage.remove(TOKEN_KEY);
}

// ---------------------------------------------------------------- session

function startSession(agent) {
  state.agent = agent || {};
  el.loginView.hidden = true;
  el.appView.hidden = false;
  const wanted = storage.get(PRESENCE_KEY);
  setPresenceControl(PRESENCES.includes(wanted) ? wanted : 'offline');
  renderAll({ force: true });
  connect();
  game.start(state.agent);
  cockpit.start(state.agent);
  inboxes.start(state.agent);
  slaAdmin.start(state.agent);
  feedback.start(state.agent);
  surveyAdmin.start(state.agent);
  crmAdmin.start(state.agent);
  quests.start(state.agent);
  if (softphone) softphone.start();
}

function connect() {
  if (state.socket) state.socket.stop();
  state.socket = new ReconnectingSocket(() => agentSocketURL(state.token), {
    onFrame: handleFrame,
    onState: renderConnection,
    onClose: async ({ opened, code }) => {
      if (code === 4401 || code === 4001) {
        sessionEnded();
        return;
      }
      if (!opened) {
        // The handshake failed; browsers hide the HTTP status, so ask the
        // API whether the session still exists.
        try {
          await api.me();
        } catch (err) {
          if (err.status === 401) sessionEnded();
        }
      }
    },
  });
  state.socket.start();
}

function stopSession() {
  if (state.socket) state.socket.stop();
  state.socket = null;
  state.threads.clear();
  state.offers.clear();
  state.openId = null;
  state.customerKey = '';
  el.offers.replaceChildren();
  el.toasts.replaceChildren();
  game.stop();
  cockpit.stop();
  inboxes.stop();
  slaAdmin.stop();
  feedback.stop();
  surveyAdmin.stop();
  crmAdmin.stop();
  quests.stop();
  if (softphone) softphone.stop();
}

function sessionEnded() {
  stopSession();
  forgetToken();
  showLogin(t('login.session_expired'));
}

async function logout() {
  try {
    await api.logout();
  } catch {
    // The session is dropped locally either way.
  }
  stopSession();
  forgetToken();
  if (location.pathname !== '/console/') history.replaceState(null, '', '/console/');
  showLogin('');
}

function send(frame) {
  return Boolean(state.socket && state.socket.send(frame));
}

// ---------------------------------------------------------------- frames

function handleFrame(f) {
  switch (f.type) {
    case 'hello':
      onHello(f);
      break;
    case 'offer':
      if (f.offer && f.offer.id) addOffer(f.offer);
      break;
    case 'offer_ended':
      endOffer(f.offer_id, f.reason);
      break;
    case 'assigned':
      onAssigned(f);
      break;
    case 'message':
      onMessage(f);
      break;
    case 'delivery':
      onDelivery(f);
      break;
    case 'ack':
      onAck(f);
      break;
    case 'typing':
      onTyping(f);
      break;
    case 'resolved':
      onResolved(f);
      break;
    case 'presence':
      if (PRESENCES.includes(f.status)) {
        storage.set(PRESENCE_KEY, f.status);
        setPresenceControl(f.status);
      }
      if (f.reason === 'missed_offers') toast(t('presence.reason.missed_offers'), 'warning');
      break;
    case 'error':
      onError(f);
      break;
    case 'points':
    case 'badge':
      game.onFrame(f);
      break;
    case 'feedback':
      feedback.onFrame(f);
      break;
    case 'sla':
      onSla(f);
      break;
    case 'conversation_status':
    case 'tags':
    case 'reopened': {
      const th = tools.onFrame(f, state.threads);
      if (th) tools.onChange(th);
      break;
    }
    case 'call_requeued': // Twilio could not connect an accepted call
      toast(t('call.requeued', { reason: String(f.reason || '') }), 'warning');
      break;
    default:
      break; // Unknown frames are for other clients.
  }
}

function onHello(f) {
  state.socket.resetBackoff();
  if (f.agent) state.agent = { ...state.agent, ...f.agent };

  const wanted = storage.get(PRESENCE_KEY);
  if (PRESENCES.includes(wanted)) {
    // The server sets an agent offline when its last socket closes, so the
    // chosen status is sent again after every (re)connect.
    send({ type: 'presence', status: wanted });
    setPresenceControl(wanted);
  } else if (PRESENCES.includes(f.presence)) {
    setPresenceControl(f.presence);
  }

  const seen = new Set();
  for (const item of f.conversations || []) {
    const conv = item.conversation || item;
    if (!conv || conv.id === undefined) continue;
    const id = String(conv.id);
    seen.add(id);
    const existing = state.threads.get(id);
    if (existing) {
      existing.update(conv, item.customer);
      existing.assigned = true;
    } else {
      state.threads.set(id, new Thread({ ...conv, id }, item.customer));
    }
  }
  for (const [id, th] of state.threads) {
    if (seen.has(id)) continue;
    if (id === state.openId) th.assigned = false;
    else state.threads.delete(id);
  }

  // Sends that were never acknowledged go out again with the same
  // client_msg_id; the server deduplicates them.
  for (const th of state.threads.values()) {
    for (const p of th.pending.values()) if (p.localState === 'pending') transmit(th, p);
  }

  if (state.wantOpenId && state.threads.has(state.wantOpenId)) {
    const id = state.wantOpenId;
    state.wantOpenId = null;
    openConversation(id, { push: false });
  } else if (state.openId && state.threads.get(state.openId).assigned) {
    // Messages may have arrived while the socket was down.
    resync(state.openId);
  }
  renderAll();
}

function upsertThread(conversation, customer) {
  const id = String(conversation.id);
  let th = state.threads.get(id);
  if (th) th.update(conversation, customer);
  else {
    th = new Thread({ ...conversation, id }, customer);
    state.threads.set(id, th);
    if (th.isOpen) loadSla(th);
  }
  th.assigned = true;
  return th;
}

function onAssigned(f) {
  if (!f.conversation) return;
  const th = upsertThread(f.conversation, f.customer);
  let acceptedHere = false;
  for (const [id, entry] of state.offers) {
    if (String((entry.offer.conversation || {}).id) === th.id) {
      acceptedHere = acceptedHere || entry.accepting;
      removeOffer(id);
    }
  }
  if (acceptedHere || !state.openId) {
    openConversation(th.id, { focus: acceptedHere });
  } else {
    const name = th.conversation.customer_name || (th.customer && th.customer.name) || t('customer.unknown');
    toast(t('toast.assigned', { customer: name }));
  }
  if (th.needsSync) resync(th.id);
  renderAll();
}

// ---------------------------------------------------------------- SLA clocks

// onSla records a clock's new state from an `sla` frame.
function onSla(f) {
  const th = state.threads.get(String(f.conversation_id));
  if (!th || !f.clock) return;
  th.sla = { ...(th.sla || {}), [f.clock]: { kind: f.clock, state: f.state, status: f.status, due_at: f.due_at || '' } };
  if (f.state === 'warning' || f.state === 'breached') {
    toast(t(f.state === 'warning' ? 'sla.toast.warning' : 'sla.toast.breached', { kind: slaKindLabel(f.clock), customer: threadTitle(th) }), f.state === 'warning' ? 'warning' : 'error');
  }
  renderList();
}

// loadSla fetches a conversation's clocks (the latest of each kind).
async function loadSla(th) {
  try {
    const data = await api.get(`/conversations/${encodeURIComponent(th.id)}/sla`);
    const clocks = {};
    for (const c of data.items || []) clocks[c.kind] = { kind: c.kind, state: c.state, status: c.status, due_at: c.due_at || '' };
    th.sla = clocks;
    renderList();
  } catch {
    // No badge; the conversation still works.
  }
}

// refreshSlaBadges updates the time left on every badge (each second).
function refreshSlaBadges() {
  if (!el.conversationList) return;
  const now = Date.now();
  for (const b of el.conversationList.querySelectorAll('.sla-badge[data-due]')) {
    const clock = { state: b.dataset.state, due_at: b.dataset.due };
    const text = slaBadgeText(clock, now);
    if (b.textContent !== text) b.textContent = text;
    if (clock.state !== 'paused' && Date.parse(clock.due_at) < now) b.classList.add('sla-breached');
  }
}

function isMine(m) {
  const s = m.sender || {};
  return s.type === 'agent' && state.agent && String(s.id) === String(state.agent.id);
}

function onMessage(f) {
  const m = f.message;
  if (!m) return;
  const id = String(f.conversation_id || m.conversation_id);
  const th = state.threads.get(id);
  if (!th) {
    // A conversation still on offer: keep its card current.
    for (const entry of state.offers.values()) {
      const conv = entry.offer.conversation;
      if (conv && String(conv.id) === id && !entry.ended) {
        conv.messages = conv.messages || [];
        if (!conv.messages.some((x) => x.seq === m.seq)) {
          conv.messages.push(m);
          rerenderOffer(entry);
        }
      }
    }
    return;
  }
  const r = th.add(m);
  if (r.added && m.direction === 'in' && !isMine(m)) {
    tools.onCustomerMessage(th);
    th.typingUntil = 0;
    if (id !== state.openId || document.hidden) th.unread++;
    if (id === state.openId) {
      const who = (m.sender && m.sender.name) || t('msg.customer');
      el.messageAnnouncer.textContent = `${who}: ${String(m.body || '').slice(0, 140)}`;
    }
  }
  if (r.gap) resync(id);
  renderList();
  if (id === state.openId) renderThread();
  updateTitle();
}

function onDelivery(f) {
  const th = state.threads.get(String(f.conversation_id));
  if (!th) return;
  const m = th.findMessage(f.message_id);
  if (!m) return;
  m.delivery = f.delivery;
  if (th.id === state.openId) renderThread();
}

function onAck(f) {
  for (const th of state.threads.values()) {
    if (!th.pending.has(f.client_msg_id)) continue;
    const r = th.ack(f.client_msg_id, f.message_id, f.seq);
    if (r && r.gap) resync(th.id);
    renderList();
    if (th.id === state.openId) renderThread();
    return;
  }
}

function onTyping(f) {
  const th = state.threads.get(String(f.conversation_id));
  if (!th) return;
  th.typingUntil = Date.now() + TYPING_SHOW_MS;
  if (th.id === state.openId) renderTyping();
}

function onResolved(f) {
  const th = state.threads.get(String(f.conversation_id));
  if (!th) return;
  th.conversation.status = 'resolved';
  th.conversation.resolved_at = th.conversation.resolved_at || new Date().toISOString();
  th.resolving = false;
  renderList();
  if (th.id === state.openId) renderThread();
}

function onError(f) {
  if (templates) templates.refresh(); // a refused WhatsApp reply: the window may have closed
  const ref = f.ref ? String(f.ref) : '';
  const text = f.message || t('error.generic', { code: f.code || 'error' });
  if (ref) {
    for (const th of state.threads.values()) {
      const p = th.pending.get(ref);
      if (p) {
        p.localState = 'failed';
        p.error = text;
        if (th.id === state.openId) renderThread();
        return;
      }
    }
    const entry = state.offers.get(ref);
    if (entry) {
      entry.accepting = false;
      entry.rejecting = false;
      setOfferStatus(entry, text, 'error');
      updateOfferButtons(entry);
      return;
    }
    const th = state.threads.get(ref);
    if (th && th.resolving) {
      th.resolving = false;
      if (th.id === state.openId) renderThread();
    }
  }
  if (f.code === 'unauthorized') {
    sessionEnded();
    return;
  }
  toast(text, 'error');
}

// ---------------------------------------------------------------- resync

// resync fetches messages after the thread's watermark until no gap is left.
function resync(id) {
  const th = state.threads.get(id);
  if (!th || th.syncing) return;
  th.syncing = (async () => {
    if (id === state.openId) el.threadLoading.hidden = false;
    try {
      for (let round = 0; round < 10; round++) {
        const from = th.synced;
        const items = await api.messagesAfter(id, from);
        const fresh = items.filter((m) => Number(m.seq) > from);
        th.addAll(fresh);
        if (fresh.length === 0) {
          th.markAllSynced();
          break;
        }
        th.markSynced(Math.max(...fresh.map((m) => Number(m.seq))));
        if (!th.needsSync) break;
      }
    } catch (err) {
      if (err.status === 401) {
        sessionEnded();
        return;
      }
      // Otherwise the next gap or reconnect tries again.
    } finally {
      th.syncing = null;
      if (id === state.openId) {
        el.threadLoading.hidden = true;
        renderThread();
      }
      renderList();
    }
  })();
}

// ---------------------------------------------------------------- offers

function addOffer(offer) {
  const id = String(offer.id);
  const existing = state.offers.get(id);
  if (existing) {
    existing.offer = offer;
    rerenderOffer(existing);
    return;
  }
  const entry = { offer, el: null, receivedAt: Date.now(), accepting: false, rejecting: false, ended: false };
  state.offers.set(id, entry);
  entry.el = buildOfferCard(entry);
  renderOffers();
  const customer = (offer.customer && offer.customer.name) || (offer.conversation && offer.conversation.customer_name) || t('customer.unknown');
  el.offerAnnouncer.textContent = t('offer.announce', { queue: (offer.queue && offer.queue.name) || '', customer });
  updateTitle();
}

function buildOfferCard(entry) {
  const id = String(entry.offer.id);
  const card = offerCard(entry.offer, {
    me: state.agent,
    onAccept: () => acceptOffer(id),
    onReject: () => rejectOffer(id),
  });
  entry.el = card;
  updateOfferCountdown(entry);
  updateOfferButtons(entry);
  if (entry.statusText) setOfferStatus(entry, entry.statusText, entry.statusKind);
  return card;
}

function rerenderOffer(entry) {
  const old = entry.el;
  const card = buildOfferCard(entry);
  if (old && old.parentNode) old.replaceWith(card);
  renderOfferIds();
}

// renderOffers orders the cards by expiry, moving only cards out of place
// (re-inserting a card would restart its entrance animation).
function renderOffers() {
  const entries = [...state.offers.values()].sort((a, b) => expiresMs(a) - expiresMs(b));
  entries.forEach((e, i) => {
    if (el.offers.children[i] !== e.el) el.offers.insertBefore(e.el, el.offers.children[i] || null);
  });
  while (el.offers.children.length > entries.length) el.offers.lastElementChild.remove();
  el.offersHeading.hidden = entries.length === 0;
  renderOfferIds();
}

// renderOfferIds gives the first card's buttons the ids #offer-accept and
// #offer-reject (ids must be unique; every card has the classes).
function renderOfferIds() {
  let first = true;
  for (const card of el.offers.querySelectorAll('.offer-card')) {
    const accept = card.querySelector('.offer-accept');
    const reject = card.querySelector('.offer-reject');
    const live = first && !card.classList.contains('is-ended');
    accept.id = live ? 'offer-accept' : '';
    reject.id = live ? 'offer-reject' : '';
    if (!accept.id) accept.removeAttribute('id');
    if (!reject.id) reject.removeAttribute('id');
    if (live) first = false;
  }
}

function expiresMs(entry) {
  const t0 = Date.parse(entry.offer.expires_at || '');
  return Number.isNaN(t0) ? entry.receivedAt + 30000 : t0 - api.clockSkewMs;
}

function updateOfferCountdown(entry) {
  if (!entry.el) return;
  const left = expiresMs(entry) - Date.now();
  const total = Math.max(1000, expiresMs(entry) - entry.receivedAt);
  const countdown = entry.el.querySelector('.offer-countdown');
  const bar = entry.el.querySelector('.offer-progress-bar');
  const secs = Math.max(0, Math.ceil(left / 1000));
  countdown.textContent = secs > 0 ? t('offer.countdown', { s: secs }) : t('offer.expired');
  entry.el.classList.toggle('is-urgent', secs > 0 && secs <= 5);
  bar.style.width = `${Math.max(0, Math.min(100, (left / total) * 100))}%`;
}

function updateOfferButtons(entry) {
  if (!entry.el) return;
  const accept = entry.el.querySelector('.offer-accept');
  const reject = entry.el.querySelector('.offer-reject');
  const busy = entry.accepting || entry.rejecting || entry.ended;
  accept.disabled = busy;
  reject.disabled = busy;
  accept.textContent = entry.accepting ? t('offer.accepting') : t('offer.accept');
  reject.textContent = entry.rejecting ? t('offer.rejecting') : t('offer.reject');
}

function setOfferStatus(entry, text, kind) {
  entry.statusText = text;
  entry.statusKind = kind;
  const p = entry.el.querySelector('.offer-status');
  p.textContent = text;
  p.hidden = !text;
  p.dataset.kind = kind || 'info';
}

function acceptOffer(id) {
  const entry = state.offers.get(id);
  if (!entry || entry.ended) return;
  if (!send({ type: 'accept', offer_id: id })) {
    setOfferStatus(entry, t('conn.offline'), 'error');
    return;
  }
  entry.accepting = true;
  setOfferStatus(entry, '', '');
  updateOfferButtons(entry);
}

function rejectOffer(id) {
  const entry = state.offers.get(id);
  if (!entry || entry.ended) return;
  if (!send({ type: 'reject', offer_id: id, reason: 'declined' })) {
    setOfferStatus(entry, t('conn.offline'), 'error');
    return;
  }
  entry.rejecting = true;
  updateOfferButtons(entry);
  // offer_ended normally follows; do not keep the card if it does not.
  setTimeout(() => {
    const e = state.offers.get(id);
    if (e && e.rejecting && !e.ended) endOffer(id, 'rejected');
  }, OFFER_GRACE_MS);
}

function endOffer(offerId, reason) {
  const id = String(offerId);
  const entry = state.offers.get(id);
  if (!entry || entry.ended) return;
  entry.ended = true;
  entry.el.classList.add('is-ended');
  entry.el.dataset.reason = reason || '';
  setOfferStatus(entry, tOr(`offer.ended.${reason}`, t('offer.ended.unknown')), reason === 'accepted' ? 'success' : 'info');
  updateOfferButtons(entry);
  renderOfferIds();
  setTimeout(() => removeOffer(id), reason === 'accepted' && entry.accepting ? 0 : OFFER_ENDED_SHOW_MS);
}

function removeOffer(id) {
  const entry = state.offers.get(id);
  if (!entry) return;
  state.offers.delete(id);
  if (entry.el) entry.el.remove();
  el.offersHeading.hidden = state.offers.size === 0;
  renderOfferIds();
  updateTitle();
}

// ---------------------------------------------------------------- replies

function openThread() {
  return state.openId ? state.threads.get(state.openId) : null;
}

function transmit(th, p) {
  p.localState = 'pending';
  p.error = null;
  p.sentAt = Date.now();
  send({ type: 'send', conversation_id: th.id, body: p.body, client_msg_id: p.client_msg_id, private: p.private });
}

function sendReply() {
  const th = openThread();
  if (!th || !th.isOpen) return;
  const body = el.replyInput.value.replace(/^\s*\n/, '').trimEnd();
  if (!body.trim()) return;
  if (new TextEncoder().encode(body).length > MAX_BODY_BYTES) {
    toast(t('reply.too_long'), 'error');
    return;
  }
  const p = {
    client_msg_id: uuid(),
    body,
    private: el.replyPrivate.checked,
    direction: 'out',
    sender: { type: 'agent', id: state.agent.id, name: state.agent.name },
    created_at: new Date().toISOString(),
    createdMs: Date.now(),
    attachments: [],
  };
  th.addPending(p);
  transmit(th, p);
  el.replyInput.value = '';
  autosize();
  renderThread({ scroll: 'bottom' });
  renderList();
}

function retry(m) {
  const th = openThread();
  const p = th && th.pending.get(m.client_msg_id);
  if (!p) return;
  transmit(th, p);
  renderThread();
}

function autosize() {
  const ta = el.replyInput;
  ta.style.height = '';
  if (ta.scrollHeight > ta.clientHeight) ta.style.height = `${Math.min(ta.scrollHeight + 2, 240)}px`;
}

// ---------------------------------------------------------------- navigation

function openConversation(id, { push = true, focus = false } = {}) {
  const th = state.threads.get(id);
  if (!th) return;
  const switched = state.openId !== id;
  state.openId = id;
  th.unread = 0;
  const path = `/console/c/${encodeURIComponent(id)}`;
  if (push && location.pathname !== path) history.pushState(null, '', path);
  if (switched) {
    el.replyInput.value = '';
    el.replyPrivate.checked = false;
    updateComposerMode();
  }
  renderAll({ scroll: switched ? 'bottom' : undefined });
  if (switched && th.isOpen) loadSla(th);
  if (th.needsSync) resync(id);
  if (!th.profile && th.conversation.customer_id) loadCustomer(th);
  if (focus) el.replyInput.focus();
}

async function loadCustomer(th, force = false) {
  try {
    // The full profile (notes, duplicates, merges) replaces the offer's 360.
    th.profile = await api.customer(th.conversation.customer_id);
    if (th.id === state.openId) renderCustomer(force);
  } catch {
    // The panel stays empty; the conversation still works.
  }
}

function closeConversation() {
  state.openId = null;
  renderAll();
}

// ---------------------------------------------------------------- bindings

function bindApp() {
  el.language.addEventListener('change', () => i18n.setLanguage(el.language.value));
  el.logout.addEventListener('click', logout);

  el.presence.addEventListener('change', () => {
    const status = el.presence.value;
    storage.set(PRESENCE_KEY, status);
    setPresenceControl(status);
    send({ type: 'presence', status });
  });

  el.conversationList.addEventListener('click', (ev) => {
    const li = ev.target.closest('li[data-id]');
    if (li) openConversation(li.dataset.id, { focus: true });
  });

  el.composer.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sendReply();
  });
  el.replyInput.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || ev.shiftKey || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.isComposing || ev.keyCode === 229) return; // IME candidate selection
    ev.preventDefault();
    sendReply();
  });
  el.replyInput.addEventListener('input', () => {
    autosize();
    const th = openThread();
    if (!th || !th.isOpen || el.replyPrivate.checked || !el.replyInput.value) return;
    const now = Date.now();
    if (now - state.lastTypingSent >= TYPING_SEND_INTERVAL_MS && send({ type: 'typing', conversation_id: th.id })) {
      state.lastTypingSent = now;
    }
  });
  el.replyPrivate.addEventListener('change', updateComposerMode);

  el.resolve.addEventListener('click', () => {
    const th = openThread();
    if (!th || !th.isOpen || th.resolving) return;
    if (!send({ type: 'resolve', conversation_id: th.id, disposition: el.disposition.value })) {
      toast(t('conn.offline'), 'error');
      return;
    }
    th.resolving = true;
    renderThread();
    setTimeout(() => {
      if (th.resolving) {
        th.resolving = false;
        if (th.id === state.openId) renderThread();
      }
    }, 10000);
  });

  window.addEventListener('popstate', () => {
    const id = idFromPath();
    if (id && state.threads.has(id)) openConversation(id, { push: false });
    else closeConversation();
  });

  document.addEventListener('visibilitychange', () => {
    const th = openThread();
    if (!document.hidden && th && th.unread) {
      th.unread = 0;
      renderList();
      updateTitle();
    }
  });
}

function updateComposerMode() {
  const priv = el.replyPrivate.checked;
  el.composer.classList.toggle('is-private', priv);
  el.replyInput.placeholder = t(priv ? 'reply.placeholder_private' : 'reply.placeholder');
  el.replySend.textContent = t(priv ? 'reply.add_note' : 'reply.send');
}

function setPresenceControl(status) {
  el.presence.value = status;
  el.presence.parentElement.dataset.presence = status;
}

// tick runs every second: offer countdowns, reconnect countdown, typing
// indicator expiry and acknowledgement timeouts.
function tick() {
  const now = Date.now();
  refreshSlaBadges();
  for (const [id, entry] of state.offers) {
    updateOfferCountdown(entry);
    if (!entry.ended && now > expiresMs(entry) + OFFER_GRACE_MS) endOffer(id, 'timeout');
  }
  if (state.socket && state.socket.state === 'waiting') renderConnection();
  const th = openThread();
  if (th && th.typingUntil && th.typingUntil <= now) {
    th.typingUntil = 0;
    renderTyping();
  }
  if (state.socket && state.socket.isOpen) {
    for (const t2 of state.threads.values()) {
      let changed = false;
      for (const p of t2.pending.values()) {
        if (p.localState === 'pending' && now - p.sentAt > ACK_TIMEOUT_MS) {
          p.localState = 'failed';
          p.error = t('msg.failed_timeout');
          changed = true;
        }
      }
      if (changed && t2.id === state.openId) renderThread();
    }
  }
}

// ---------------------------------------------------------------- rendering

function renderAll({ force = false, scroll } = {}) {
  if (state.agent) {
    el.agentName.textContent = state.agent.name || state.agent.email || '';
    el.agentName.title = t('header.signed_in_as', { name: state.agent.name || state.agent.email || '' });
  }
  renderConnection();
  if (force) {
    for (const entry of state.offers.values()) rerenderOffer(entry);
    renderOffers();
    updateComposerMode();
  }
  renderList();
  renderThread({ scroll });
  renderCustomer(force);
  updateTitle();
}

function renderConnection() {
  const s = state.socket ? state.socket.state : 'idle';
  let key = 'connecting';
  let text = t('conn.connecting');
  if (s === 'open') {
    key = 'online';
    text = t('conn.online');
  } else if (s === 'waiting') {
    key = 'offline';
    const secs = Math.max(0, Math.ceil((state.socket.retryAt - Date.now()) / 1000));
    text = secs > 0 ? t('conn.waiting', { s: secs }) : t('conn.connecting');
  } else if (s === 'stopped') {
    key = 'offline';
    text = t('conn.offline');
  }
  el.connection.dataset.state = key;
  if (el.connectionText.textContent !== text) el.connectionText.textContent = text;
}

function sortedThreads() {
  return [...state.threads.values()].sort((a, b) => {
    if (a.isOpen !== b.isOpen) return a.isOpen ? -1 : 1;
    return b.lastActivityMs() - a.lastActivityMs();
  });
}

function renderList() {
  const threads = sortedThreads();
  el.conversationList.replaceChildren(...threads.map((th) => conversationItem(th, { active: th.id === state.openId, me: state.agent })));
  el.listEmpty.hidden = threads.length > 0;
  updateTitle();
}

function threadTitle(th) {
  return th.conversation.customer_name || (th.customer && th.customer.name) || t('customer.unknown');
}

function renderThread({ scroll } = {}) {
  const th = openThread();
  el.conversationEmpty.hidden = Boolean(th);
  el.conversationMain.hidden = !th;
  if (!th) {
    el.thread.replaceChildren();
    tools.render(null);
    if (templates) templates.render(null);
    renderCustomer();
    return;
  }
  const c = th.conversation;
  el.conversationTitle.textContent = threadTitle(th);
  const meta = [channelLabel(c.channel), c.topic ? t('thread.topic', { topic: c.topic }) : null, statusLabel(c.status)];
  if (c.created_at) meta.push(t('thread.started', { time: formatDateTime(c.created_at) }));
  el.conversationMeta.textContent = meta.filter(Boolean).join(' · ');

  let banner = '';
  if (!th.assigned) banner = t('thread.not_assigned');
  else if (c.status === 'resolved' || c.status === 'abandoned') banner = t('thread.resolved');
  el.conversationBanner.textContent = banner;
  el.conversationBanner.hidden = !banner;

  const box = el.thread;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
  const customerName = threadTitle(th);
  box.replaceChildren(...th.messages().map((m) => messageItem(m, { me: state.agent, onRetry: retry, customerName })));
  if (scroll === 'bottom' || atBottom) box.scrollTop = box.scrollHeight;

  const open = th.isOpen;
  el.replyInput.disabled = !open;
  el.replySend.disabled = !open;
  el.replyPrivate.disabled = !open;
  el.resolve.disabled = !open || Boolean(th.resolving);
  el.disposition.disabled = !open;
  tools.render(th);
  if (templates) templates.render(th);
  renderTyping();
  renderCustomer();
}

function renderTyping() {
  const th = openThread();
  const text = th && th.typingUntil > Date.now() ? t('thread.typing', { name: threadTitle(th) }) : '';
  if (el.typingIndicator.textContent !== text) el.typingIndicator.textContent = text;
}

function renderCustomer(force = false) {
  const th = openThread();
  const customer = th ? th.profile || th.customer : null;
  const key = `${state.openId}|${i18n.getLanguage()}`;
  if (!force && key === state.customerKey && el.customerBody.customer === customer) return;
  state.customerKey = key;
  el.customerBody.customer = customer;
  const actions = customer && th.conversation.customer_id
    ? customerActions(api, th.conversation.customer_id, { refresh: () => loadCustomer(th, true), notify: toast })
    : null;
  el.customerBody.replaceChildren(...customerPanel(customer, { me: state.agent, currentId: state.openId, actions }));
}

function updateTitle() {
  let unread = 0;
  for (const th of state.threads.values()) unread += th.unread;
  const n = [...state.offers.values()].filter((e) => !e.ended).length + unread;
  const title = t('app.title');
  document.title = n > 0 ? `(${n}) ${title}` : title;
}

function toast(text, kind = 'info') {
  const item = h(
    'div',
    { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'toast-text' }, text),
    h('button', { type: 'button', class: 'toast-close', 'aria-label': t('toast.dismiss'), on: { click: () => item.remove() } }, '×'),
  );
  el.toasts.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 5000);
}

// ES modules are deferred, so the document is parsed by now.
boot();
