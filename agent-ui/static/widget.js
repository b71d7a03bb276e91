/*
 * Parley web chat widget.
 *
 *   <script src="https://parley.example.com/widget.js" data-inbox="ID" async></script>
 *
 * One self-contained classic script (it runs on other people's pages, so no
 * modules and no imports). It derives the API address from its own src,
 * renders a launcher and a chat panel inside #parley-widget (ids and classes
 * prefixed "parley-", CSS scoped to #parley-widget), and renders every text
 * from the network as text, never as markup.
 *
 * Optional attributes: data-locale="en|zh-CN" overrides the browser language.
 */
(() => {
  'use strict';

  if (window.ParleyWidget) return;
  const script =
    document.currentScript || document.querySelector('script[src*="widget.js"][data-inbox]');
  if (!script || !script.src) return;
  const inboxId = script.getAttribute('data-inbox') || '';
  if (!inboxId) {
    console.warn('Parley widget: the script tag needs a data-inbox attribute.');
    return;
  }

  // A copy of the "widget.*" entries of i18n.js (kept equal by a Go test).
  const STRINGS = /* i18n:begin */ {
    "en": {
      "widget.launcher_open": "Chat with us",
      "widget.launcher_close": "Close chat",
      "widget.title": "Support",
      "widget.close": "Minimize chat",
      "widget.prechat_intro": "Tell us a little about yourself and we will connect you with our team.",
      "widget.name": "Your name",
      "widget.email": "Email (optional)",
      "widget.phone": "Phone (optional)",
      "widget.topic": "Topic",
      "widget.start": "Start chat",
      "widget.starting": "Starting…",
      "widget.required": "Please fill in this field.",
      "widget.invalid": "Please check this field.",
      "widget.input_label": "Message",
      "widget.placeholder": "Type a message…",
      "widget.send": "Send",
      "widget.queue": "You are number {position} in the queue, about {minutes} min",
      "widget.queue_no_eta": "You are number {position} in the queue",
      "widget.waiting": "Waiting for an agent…",
      "widget.joined": "{name} joined the chat",
      "widget.typing": "The agent is typing…",
      "widget.typing_named": "{name} is typing…",
      "widget.resolved": "This conversation is resolved — write again to start a new one.",
      "widget.leave": "Leave the queue",
      "widget.left": "You left the queue — write again to start a new conversation.",
      "widget.connecting": "Connecting…",
      "widget.reconnecting": "Connection lost — reconnecting…",
      "widget.error": "Something went wrong. Please try again.",
      "widget.unavailable": "Chat is not available right now.",
      "widget.pending": "Sending…",
      "widget.failed": "Not sent — tap to retry",
      "widget.you": "You",
      "widget.agent": "Support",
      "widget.unread": "{n} new messages",
      "widget.rating_score": "{n} of {max}",
      "widget.rating_comment": "Anything to add? (optional)",
      "widget.rating_send": "Send feedback",
      "widget.rating_thanks": "Thank you for your feedback!",
      "widget.rating_skip": "Skip"
    },
    "zh-CN": {
      "widget.launcher_open": "在线咨询",
      "widget.launcher_close": "关闭聊天",
      "widget.title": "客户支持",
      "widget.close": "收起聊天",
      "widget.prechat_intro": "请简单介绍一下您自己，我们将为您接通客服团队。",
      "widget.name": "您的称呼",
      "widget.email": "邮箱（选填）",
      "widget.phone": "手机号（选填）",
      "widget.topic": "咨询主题",
      "widget.start": "开始聊天",
      "widget.starting": "正在开始…",
      "widget.required": "请填写此项。",
      "widget.invalid": "请检查此项。",
      "widget.input_label": "消息",
      "widget.placeholder": "输入消息…",
      "widget.send": "发送",
      "widget.queue": "您当前排在第 {position} 位，预计等待约 {minutes} 分钟",
      "widget.queue_no_eta": "您当前排在第 {position} 位",
      "widget.waiting": "正在等待客服…",
      "widget.joined": "{name} 已加入对话",
      "widget.typing": "客服正在输入…",
      "widget.typing_named": "{name} 正在输入…",
      "widget.resolved": "本次对话已结束——再次发送消息即可开始新的对话。",
      "widget.leave": "离开队列",
      "widget.left": "您已离开队列——再次发送消息即可开始新的对话。",
      "widget.connecting": "正在连接…",
      "widget.reconnecting": "连接中断，正在重新连接…",
      "widget.error": "出现错误，请重试。",
      "widget.unavailable": "当前无法使用在线聊天。",
      "widget.pending": "发送中…",
      "widget.failed": "未发送——点击重试",
      "widget.you": "您",
      "widget.agent": "客服",
      "widget.unread": "{n} 条新消息",
      "widget.rating_score": "{n} / {max}",
      "widget.rating_comment": "还有其他意见吗？（可选）",
      "widget.rating_send": "提交反馈",
      "widget.rating_thanks": "感谢您的反馈！",
      "widget.rating_skip": "跳过"
    }
  } /* i18n:end */;

  const ACK_TIMEOUT_MS = 20000;
  const TYPING_SEND_INTERVAL_MS = 3000;
  const TYPING_SHOW_MS = 5000;
  const MAX_LOG = 200;
  const MAX_DELAY_MS = 10000;

  // ------------------------------------------------------------ language

  function pickLanguage(tags) {
    for (const raw of tags || []) {
      const tag = String(raw || '').toLowerCase();
      if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
      if (tag === 'en' || tag.startsWith('en-')) return 'en';
    }
    return 'en';
  }

  const requested = script.getAttribute('data-locale');
  const lang = requested && Object.hasOwn(STRINGS, requested)
    ? requested
    : pickLanguage(navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]);

  function t(key, params) {
    let s = Object.hasOwn(STRINGS[lang], key) ? STRINGS[lang][key] : STRINGS.en[key];
    if (s === undefined) return key;
    if (params) s = s.replace(/\{(\w+)\}/g, (m, name) => (Object.hasOwn(params, name) ? String(params[name]) : m));
    return s;
  }

  function timeOf(value) {
    const d = new Date(value || Date.now());
    if (Number.isNaN(d.getTime())) return '';
    return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(d);
  }

  // ------------------------------------------------------------ addresses

  const base = new URL('./', script.src);

  function apiURL(path) {
    return new URL(`api/v1/${path}`, base);
  }

  // after_seq counts in the conversation conversation_id; a server that
  // sees another conversation is current starts that one from its beginning.
  function socketURL(token, cursor) {
    const u = apiURL('webchat/ws');
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('token', token);
    u.searchParams.set('after_seq', String(Number(cursor.seq) || 0));
    if (cursor.conversation_id) u.searchParams.set('conversation_id', cursor.conversation_id);
    return u.href;
  }

  // ------------------------------------------------------------ storage

  // Keys are per inbox; storage that throws (blocked third-party storage,
  // private modes) falls back to memory for this page.
  const prefix = `parley:${inboxId}:`;
  const memory = new Map();
  const store = {
    get(key) {
      try {
        const v = localStorage.getItem(prefix + key);
        if (v !== null) return v;
      } catch {
        // fall through to memory
      }
      return memory.has(key) ? memory.get(key) : null;
    },
    set(key, value) {
      memory.set(key, value);
      try {
        localStorage.setItem(prefix + key, value);
      } catch {
        // memory only
      }
    },
    remove(key) {
      memory.delete(key);
      try {
        localStorage.removeItem(prefix + key);
      } catch {
        // memory only
      }
    },
    json(key, fallback) {
      try {
        const v = JSON.parse(this.get(key));
        return v === null || v === undefined ? fallback : v;
      } catch {
        return fallback;
      }
    },
  };

  function sessionFlag(key, value) {
    try {
      if (value === undefined) return sessionStorage.getItem(prefix + key) === '1';
      if (value) sessionStorage.setItem(prefix + key, '1');
      else sessionStorage.removeItem(prefix + key);
    } catch {
      // not remembered across pages
    }
    return false;
  }

  // ------------------------------------------------------------ state

  const S = {
    token: store.get('token'),
    // cursor: the conversation and the last seq seen in it (after_seq).
    cursor: store.json('cursor', { conversation_id: '', seq: 0 }),
    // log: transcript entries, including unacknowledged sends (state
    // "pending"), which are sent again with the same client_msg_id.
    log: store.json('log', []),
    agentName: store.get('agent') || '',
    inbox: null,
    ws: null,
    ready: false,
    attempt: 0,
    timer: null,
    reconnectNow: false,
    unauthorized: false,
    status: '',
    open: false,
    unread: 0,
    lastTypingSent: 0,
    typingTimer: null,
  };
  if (!Array.isArray(S.log)) S.log = [];
  if (!S.cursor || typeof S.cursor !== 'object') S.cursor = { conversation_id: '', seq: 0 };

  function saveLog() {
    let log = S.log;
    if (log.length > MAX_LOG) {
      const keep = log.length - MAX_LOG;
      log = log.filter((e, i) => i >= keep || e.state === 'pending');
      S.log = log;
    }
    store.set('log', JSON.stringify(log));
  }

  function saveCursor() {
    store.set('cursor', JSON.stringify(S.cursor));
  }

  // ------------------------------------------------------------ DOM

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = String(value);
      else if (name === 'hidden') node.hidden = true;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function icon(d, size) {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', String(size));
    svg.setAttribute('height', String(size));
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const path = document.createElementNS(NS, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'currentColor');
    svg.appendChild(path);
    return svg;
  }

  const ICON_CHAT = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2zm3 6v2h2v-2H7zm4 0v2h2v-2h-2zm4 0v2h2v-2h-2z';
  const ICON_CLOSE = 'M18.3 5.7 12 12l6.3 6.3-1.4 1.4-6.3-6.3-6.3 6.3-1.4-1.4L10.6 12 4.3 5.7l1.4-1.4 6.3 6.3 6.3-6.3z';
  const ICON_DOWN = 'M7.4 8.6 12 13.2l4.6-4.6L18 10l-6 6-6-6z';
  const ICON_SEND = 'M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z';

  const CSS = [
    '#parley-widget{--parley-accent:#2454d6;--parley-accent-hover:#1c44b0;--parley-text:#1d2330;--parley-muted:#5f6b7a;--parley-border:#e1e4e8;--parley-surface:#fff;--parley-bg:#f6f7f9;--parley-danger:#c62d2d;position:fixed;right:20px;bottom:20px;z-index:2147483000;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:var(--parley-text);text-align:left;letter-spacing:normal;}',
    '#parley-widget *,#parley-widget *::before,#parley-widget *::after{box-sizing:border-box;}',
    '#parley-widget [hidden]{display:none!important;}',
    '#parley-widget button,#parley-widget input,#parley-widget select,#parley-widget textarea{font:inherit;color:inherit;margin:0;}',
    '#parley-widget :focus-visible{outline:2px solid var(--parley-accent);outline-offset:2px;}',
    '#parley-widget .parley-visually-hidden{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0;}',
    '#parley-widget .parley-launcher{position:relative;display:grid;place-items:center;width:56px;height:56px;margin-left:auto;padding:0;border:0;border-radius:50%;background:var(--parley-accent);color:#fff;box-shadow:0 6px 20px rgba(16,24,40,.28);cursor:pointer;transition:transform .15s,background-color .15s;}',
    '#parley-widget .parley-launcher:hover{background:var(--parley-accent-hover);transform:scale(1.04);}',
    '#parley-widget .parley-badge{position:absolute;top:-3px;right:-3px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:var(--parley-danger);color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center;}',
    '#parley-widget .parley-panel{position:absolute;right:0;bottom:72px;display:flex;flex-direction:column;width:370px;height:min(580px,calc(100vh - 110px));overflow:hidden;background:var(--parley-surface);border:1px solid var(--parley-border);border-radius:14px;box-shadow:0 16px 48px rgba(16,24,40,.22);}',
    '#parley-widget .parley-header{display:flex;align-items:flex-start;gap:12px;padding:16px;background:var(--parley-accent);color:#fff;}',
    '#parley-widget .parley-header-text{flex:1;min-width:0;}',
    '#parley-widget .parley-title{margin:0;padding:0;font-size:16px;font-weight:700;line-height:1.3;color:inherit;}',
    '#parley-widget .parley-status{margin:2px 0 0;min-height:1.4em;font-size:12px;opacity:.92;}',
    '#parley-widget .parley-leave{margin:2px 0 0;padding:0;border:0;background:none;color:inherit;font:inherit;font-size:12px;text-decoration:underline;cursor:pointer;}',
    '#parley-widget .parley-status[data-kind="warn"],#parley-widget .parley-status[data-kind="error"]{opacity:1;font-weight:600;}',
    '#parley-widget .parley-close{display:grid;place-items:center;width:32px;height:32px;padding:0;border:0;border-radius:8px;background:transparent;color:#fff;cursor:pointer;}',
    '#parley-widget .parley-close:hover{background:rgba(255,255,255,.16);}',
    '#parley-widget .parley-body{display:flex;flex-direction:column;flex:1;min-height:0;background:var(--parley-bg);}',
    '#parley-widget .parley-prechat{display:flex;flex-direction:column;gap:12px;padding:16px;overflow-y:auto;}',
    '#parley-widget .parley-intro{margin:0;color:var(--parley-muted);}',
    '#parley-widget .parley-field{display:flex;flex-direction:column;gap:4px;}',
    '#parley-widget .parley-field label{font-size:13px;font-weight:600;}',
    '#parley-widget .parley-field input,#parley-widget .parley-field select{width:100%;height:40px;padding:0 10px;background:#fff;border:1px solid #c9ced6;border-radius:8px;}',
    '#parley-widget .parley-field input[aria-invalid="true"]{border-color:var(--parley-danger);}',
    '#parley-widget .parley-field-error,#parley-widget .parley-error{margin:0;font-size:12px;color:var(--parley-danger);}',
    '#parley-widget .parley-button{height:40px;padding:0 16px;border:0;border-radius:8px;background:var(--parley-accent);color:#fff;font-weight:600;cursor:pointer;}',
    '#parley-widget .parley-button:hover:not(:disabled){background:var(--parley-accent-hover);}',
    '#parley-widget .parley-button:disabled{opacity:.6;cursor:not-allowed;}',
    '#parley-widget .parley-chat{display:flex;flex-direction:column;flex:1;min-height:0;}',
    '#parley-widget .parley-messages{display:flex;flex-direction:column;gap:8px;flex:1;min-height:0;margin:0;padding:12px;overflow-y:auto;list-style:none;}',
    '#parley-widget .parley-greeting{align-self:stretch;margin:0 0 4px;padding:10px 12px;border-radius:10px;background:#fff;border:1px solid var(--parley-border);color:var(--parley-muted);white-space:pre-wrap;}',
    '#parley-widget .parley-msg{max-width:82%;margin:0;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;}',
    '#parley-widget .parley-in{align-self:flex-end;background:var(--parley-accent);color:#fff;border-bottom-right-radius:4px;}',
    '#parley-widget .parley-out{align-self:flex-start;background:#fff;border:1px solid var(--parley-border);border-bottom-left-radius:4px;}',
    '#parley-widget .parley-system,#parley-widget .parley-notice{align-self:center;max-width:92%;padding:2px 8px;background:transparent;color:var(--parley-muted);font-size:12px;text-align:center;}',
    '#parley-widget .parley-sender{display:block;margin-bottom:2px;font-size:12px;font-weight:700;color:var(--parley-muted);}',
    '#parley-widget .parley-meta{display:block;margin-top:2px;font-size:11px;opacity:.75;text-align:right;}',
    '#parley-widget .parley-pending{opacity:.75;}',
    '#parley-widget .parley-failed{background:#fdeaea;color:var(--parley-danger);border:1px solid var(--parley-danger);cursor:pointer;}',
    '#parley-widget .parley-typing{min-height:18px;margin:0;padding:0 14px 4px;font-size:12px;font-style:italic;color:var(--parley-muted);}',
    '#parley-widget .parley-composer{display:flex;align-items:flex-end;gap:8px;padding:10px;background:#fff;border-top:1px solid var(--parley-border);}',
    '#parley-widget .parley-composer textarea{flex:1;height:40px;min-height:40px;max-height:120px;padding:9px 10px;resize:none;background:#fff;border:1px solid #c9ced6;border-radius:10px;line-height:1.4;}',
    '#parley-widget .parley-send{display:grid;place-items:center;width:40px;height:40px;padding:0;border:0;border-radius:10px;background:var(--parley-accent);color:#fff;cursor:pointer;}',
    '#parley-widget .parley-send:hover{background:var(--parley-accent-hover);}',
    '@media (max-width:480px){#parley-widget{right:12px;bottom:12px;}#parley-widget .parley-panel{position:fixed;inset:0;width:auto;height:auto;border-radius:0;border:0;}}',
    '@media (prefers-reduced-motion:reduce){#parley-widget .parley-launcher{transition:none;}}',
  ].join('\n');

  const ui = {};
  const nodes = new Map(); // entry key -> <li>

  function build() {
    if (!document.getElementById('parley-widget-style')) {
      const style = el('style', { id: 'parley-widget-style' });
      style.textContent = CSS;
      (document.head || document.documentElement).appendChild(style);
    }

    ui.badge = el('span', { id: 'parley-unread', class: 'parley-badge', 'aria-hidden': 'true', hidden: true });
    ui.launcherLabel = el('span', { class: 'parley-visually-hidden' }, t('widget.launcher_open'));
    ui.launcherIcon = icon(ICON_CHAT, 26);
    ui.launcher = el(
      'button',
      { id: 'parley-launcher', class: 'parley-launcher', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'parley-panel', onclick: () => (S.open ? closePanel(true) : openPanel(true)) },
      ui.launcherIcon,
      ui.launcherLabel,
      ui.badge,
    );

    ui.title = el('h2', { id: 'parley-title', class: 'parley-title' }, t('widget.title'));
    ui.status = el('p', { id: 'parley-status', class: 'parley-status', role: 'status', 'aria-live': 'polite' });
    ui.leave = el('button', { id: 'parley-leave', class: 'parley-leave', type: 'button', hidden: true, onclick: () => sendFrame({ type: 'leave' }) }, t('widget.leave'));
    ui.close = el('button', { id: 'parley-close', class: 'parley-close', type: 'button', 'aria-label': t('widget.close'), title: t('widget.close'), onclick: () => closePanel(true) }, icon(ICON_DOWN, 22));

    // Pre-chat form.
    ui.intro = el('p', { class: 'parley-intro' }, t('widget.prechat_intro'));
    ui.name = el('input', { id: 'parley-prechat-name', type: 'text', autocomplete: 'name', required: true, maxlength: '200' });
    ui.nameError = el('p', { id: 'parley-prechat-name-error', class: 'parley-field-error', hidden: true });
    ui.email = el('input', { id: 'parley-prechat-email', type: 'email', autocomplete: 'email', maxlength: '320' });
    ui.emailError = el('p', { id: 'parley-prechat-email-error', class: 'parley-field-error', hidden: true });
    ui.phone = el('input', { id: 'parley-prechat-phone', type: 'tel', autocomplete: 'tel', maxlength: '40', placeholder: '+14155550100' });
    ui.phoneError = el('p', { id: 'parley-prechat-phone-error', class: 'parley-field-error', hidden: true });
    ui.topic = el('select', { id: 'parley-prechat-topic' });
    ui.topicField = el('div', { class: 'parley-field', hidden: true }, el('label', { for: 'parley-prechat-topic' }, t('widget.topic')), ui.topic);
    ui.prechatError = el('p', { id: 'parley-prechat-error', class: 'parley-error', role: 'alert', hidden: true });
    ui.start = el('button', { id: 'parley-prechat-start', class: 'parley-button', type: 'submit' }, t('widget.start'));
    ui.prechat = el(
      'form',
      { id: 'parley-prechat', class: 'parley-prechat', novalidate: true, hidden: true, onsubmit: startSession },
      ui.intro,
      el('div', { class: 'parley-field' }, el('label', { for: 'parley-prechat-name' }, t('widget.name')), ui.name, ui.nameError),
      el('div', { class: 'parley-field' }, el('label', { for: 'parley-prechat-email' }, t('widget.email')), ui.email, ui.emailError),
      el('div', { class: 'parley-field' }, el('label', { for: 'parley-prechat-phone' }, t('widget.phone')), ui.phone, ui.phoneError),
      ui.topicField,
      ui.prechatError,
      ui.start,
    );

    // Chat.
    ui.greeting = el('li', { class: 'parley-greeting', hidden: true });
    ui.messages = el('ol', { id: 'parley-messages', class: 'parley-messages', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': t('widget.title') }, ui.greeting);
    ui.typing = el('p', { id: 'parley-typing', class: 'parley-typing', 'aria-live': 'polite' });
    ui.input = el('textarea', { id: 'parley-input', rows: '1', placeholder: t('widget.placeholder'), maxlength: '4000' });
    ui.send = el('button', { id: 'parley-send', class: 'parley-send', type: 'submit', 'aria-label': t('widget.send'), title: t('widget.send') }, icon(ICON_SEND, 20));
    ui.composer = el(
      'form',
      { id: 'parley-composer', class: 'parley-composer', onsubmit: (ev) => { ev.preventDefault(); sendMessage(); } },
      el('label', { for: 'parley-input', class: 'parley-visually-hidden' }, t('widget.input_label')),
      ui.input,
      ui.send,
    );
    ui.chat = el('div', { id: 'parley-chat', class: 'parley-chat', hidden: true }, ui.messages, ui.typing, ui.composer);

    ui.panel = el(
      'section',
      { id: 'parley-panel', class: 'parley-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'parley-title', hidden: true },
      el('header', { class: 'parley-header' }, el('div', { class: 'parley-header-text' }, ui.title, ui.status, ui.leave), ui.close),
      el('div', { class: 'parley-body' }, ui.prechat, ui.chat),
    );

    ui.root = el('div', { id: 'parley-widget', lang }, ui.panel, ui.launcher);
    document.body.appendChild(ui.root);

    ui.panel.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') closePanel(true);
    });
    ui.input.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter' || ev.shiftKey || ev.altKey || ev.ctrlKey || ev.metaKey) return;
      if (ev.isComposing || ev.keyCode === 229) return;
      ev.preventDefault();
      sendMessage();
    });
    ui.input.addEventListener('input', () => {
      autosize();
      const now = Date.now();
      if (ui.input.value && S.ready && now - S.lastTypingSent >= TYPING_SEND_INTERVAL_MS) {
        S.lastTypingSent = now;
        sendFrame({ type: 'typing' });
      }
    });
  }

  function autosize() {
    ui.input.style.height = '';
    if (ui.input.scrollHeight > ui.input.clientHeight) ui.input.style.height = `${Math.min(ui.input.scrollHeight + 2, 120)}px`;
  }

  function setStatus(text, kind) {
    ui.status.textContent = text || '';
    ui.status.dataset.kind = kind || 'info';
    ui.leave.hidden = S.status !== 'queued'; // only a waiting visitor can leave
  }

  function showPrechat() {
    ui.chat.hidden = true;
    ui.prechat.hidden = false;
  }

  function showChat() {
    ui.prechat.hidden = true;
    ui.chat.hidden = false;
    scrollToEnd();
  }

  function openPanel(focus) {
    S.open = true;
    sessionFlag('open', true);
    ui.panel.hidden = false;
    ui.launcher.setAttribute('aria-expanded', 'true');
    ui.launcherLabel.textContent = t('widget.launcher_close');
    ui.launcherIcon.firstChild.setAttribute('d', ICON_CLOSE);
    S.unread = 0;
    renderBadge();
    if (!S.inbox) loadInbox();
    scrollToEnd();
    if (focus) (ui.chat.hidden ? ui.name : ui.input).focus();
  }

  function closePanel(focus) {
    S.open = false;
    sessionFlag('open', false);
    ui.panel.hidden = true;
    ui.launcher.setAttribute('aria-expanded', 'false');
    ui.launcherLabel.textContent = t('widget.launcher_open');
    ui.launcherIcon.firstChild.setAttribute('d', ICON_CHAT);
    renderBadge();
    if (focus) ui.launcher.focus();
  }

  function renderBadge() {
    ui.badge.hidden = S.unread === 0 || S.open;
    ui.badge.textContent = S.unread > 9 ? '9+' : String(S.unread);
    ui.launcher.setAttribute('aria-label', S.unread && !S.open ? `${t('widget.launcher_open')} — ${t('widget.unread', { n: S.unread })}` : ui.launcherLabel.textContent);
  }

  function scrollToEnd() {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  // ------------------------------------------------------------ transcript

  function entryClass(e) {
    let cls = 'parley-msg';
    if (e.kind === 'notice') return `${cls} parley-notice`;
    if (e.senderType === 'system') cls += ' parley-system';
    else cls += e.mine ? ' parley-in' : ' parley-out';
    if (e.state === 'pending') cls += ' parley-pending';
    if (e.state === 'failed') cls += ' parley-failed';
    return cls;
  }

  function metaText(e) {
    if (e.state === 'pending') return t('widget.pending');
    if (e.state === 'failed') return t('widget.failed');
    return timeOf(e.created_at);
  }

  function renderEntry(e) {
    if (e.kind === 'notice') {
      return el('li', { class: entryClass(e), 'data-key': e.key }, t(e.textKey, e.params));
    }
    const li = el(
      'li',
      { class: entryClass(e), 'data-key': e.key, 'data-seq': e.seq || null, 'data-client-msg-id': e.client_msg_id || null },
      !e.mine && e.senderType !== 'system' ? el('span', { class: 'parley-sender' }, e.senderName || t('widget.agent')) : null,
      el('span', { class: 'parley-text' }, e.body || ''),
      el('span', { class: 'parley-meta' }, metaText(e)),
    );
    li.addEventListener('click', () => {
      const cur = S.log.find((x) => x.key === e.key);
      if (cur && cur.state === 'failed') retry(cur);
    });
    return li;
  }

  function updateEntry(e) {
    const li = nodes.get(e.key);
    if (!li) return;
    li.className = entryClass(e);
    if (e.seq) li.dataset.seq = String(e.seq);
    const meta = li.querySelector('.parley-meta');
    if (meta) meta.textContent = metaText(e);
  }

  function appendEntry(e) {
    const li = renderEntry(e);
    nodes.set(e.key, li);
    const stick = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 60;
    ui.messages.appendChild(li);
    if (stick || e.mine) scrollToEnd();
  }

  function renderTranscript() {
    for (const li of nodes.values()) li.remove();
    nodes.clear();
    for (const e of S.log) appendEntry(e);
    scrollToEnd();
  }

  function addNotice(textKey, params) {
    const e = { kind: 'notice', key: `n:${Date.now()}:${Math.random().toString(36).slice(2)}`, textKey, params: params || null, created_at: new Date().toISOString() };
    S.log.push(e);
    saveLog();
    appendEntry(e);
  }

  // ------------------------------------------------------------ inbox and session

  async function loadInbox() {
    try {
      const res = await fetch(apiURL(`webchat/inboxes/${encodeURIComponent(inboxId)}`).href, { credentials: 'omit', mode: 'cors' });
      if (res.status === 404) {
        ui.prechatError.textContent = t('widget.unavailable');
        ui.prechatError.hidden = false;
        ui.start.disabled = true;
        return;
      }
      if (!res.ok) return;
      const inbox = await res.json();
      S.inbox = inbox;
      if (inbox.name) ui.title.textContent = inbox.name;
      if (inbox.greeting) {
        ui.intro.textContent = inbox.greeting;
        ui.greeting.textContent = inbox.greeting;
        ui.greeting.hidden = false;
      }
      const topics = Array.isArray(inbox.topics) ? inbox.topics : [];
      ui.topic.replaceChildren(...topics.map((tp) => el('option', { value: tp.name }, tp.label || tp.name)));
      ui.topicField.hidden = topics.length === 0;
    } catch {
      // Network trouble: tried again when the panel opens.
    }
  }

  function fieldError(input, errorNode, text) {
    input.setAttribute('aria-invalid', text ? 'true' : 'false');
    if (text) input.setAttribute('aria-describedby', errorNode.id);
    else input.removeAttribute('aria-describedby');
    errorNode.textContent = text || '';
    errorNode.hidden = !text;
  }

  function fieldMessage(code) {
    return code === 'required' ? t('widget.required') : t('widget.invalid');
  }

  // browserHints is what the browser tells about the visitor: its time
  // zone and language (the server keeps what it understands, ignores the
  // rest, and never refuses the chat for them).
  function browserHints() {
    let timezone = '';
    try {
      timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
    } catch {
      // an old browser without time zone support
    }
    return { timezone, language: navigator.language || '' };
  }

  async function startSession(ev) {
    ev.preventDefault();
    fieldError(ui.name, ui.nameError, '');
    fieldError(ui.email, ui.emailError, '');
    fieldError(ui.phone, ui.phoneError, '');
    ui.prechatError.hidden = true;
    const name = ui.name.value.trim();
    const email = ui.email.value.trim();
    const phone = ui.phone.value.trim();
    if (!name) {
      fieldError(ui.name, ui.nameError, t('widget.required'));
      ui.name.focus();
      return;
    }
    if (email && !ui.email.checkValidity()) {
      fieldError(ui.email, ui.emailError, t('widget.invalid'));
      ui.email.focus();
      return;
    }
    if (phone && !/^\+?[0-9 ()./-]{4,40}$/.test(phone)) {
      fieldError(ui.phone, ui.phoneError, t('widget.invalid'));
      ui.phone.focus();
      return;
    }
    ui.start.disabled = true;
    ui.start.textContent = t('widget.starting');
    try {
      const body = { inbox_id: inboxId, name, email, phone, topic: ui.topicField.hidden ? '' : ui.topic.value, locale: lang, ...browserHints() };
      const res = await fetch(apiURL('webchat/sessions').href, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'omit',
        mode: 'cors',
      });
      const data = await res.json().catch(() => null);
      if (!res.ok || !data || !data.visitor_token) {
        const err = (data && data.error) || {};
        const fields = err.fields || {};
        if (fields.name) fieldError(ui.name, ui.nameError, fieldMessage(fields.name));
        if (fields.email) fieldError(ui.email, ui.emailError, fieldMessage(fields.email));
        if (fields.phone) fieldError(ui.phone, ui.phoneError, fieldMessage(fields.phone));
        if (!fields.name && !fields.email && !fields.phone) {
          ui.prechatError.textContent = err.message || t('widget.error');
          ui.prechatError.hidden = false;
        }
        return;
      }
      S.token = data.visitor_token;
      store.set('token', S.token);
      S.cursor = { conversation_id: '', seq: 0 };
      saveCursor();
      S.log = [];
      saveLog();
      renderTranscript();
      showChat();
      connect();
      ui.input.focus();
    } catch {
      ui.prechatError.textContent = t('widget.error');
      ui.prechatError.hidden = false;
    } finally {
      ui.start.disabled = false;
      ui.start.textContent = t('widget.start');
    }
  }

  // forgetVisitor drops a token the server refused and shows the form.
  function forgetVisitor() {
    S.token = null;
    S.ready = false;
    S.unauthorized = false;
    clearTimeout(S.timer);
    if (S.ws) {
      const ws = S.ws;
      S.ws = null;
      ws.close();
    }
    for (const key of ['token', 'cursor', 'log', 'agent']) store.remove(key);
    S.cursor = { conversation_id: '', seq: 0 };
    S.log = [];
    S.agentName = '';
    renderTranscript();
    setStatus('');
    showPrechat();
  }

  // ------------------------------------------------------------ socket

  function sendFrame(frame) {
    if (!S.ws || !S.ready || S.ws.readyState !== WebSocket.OPEN) return false;
    S.ws.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    if (!S.token || S.ws) return;
    clearTimeout(S.timer);
    S.timer = null;
    if (!S.status) setStatus(S.attempt ? t('widget.reconnecting') : t('widget.connecting'), S.attempt ? 'warn' : 'info');
    let ws;
    try {
      ws = new WebSocket(socketURL(S.token, S.cursor));
    } catch {
      schedule();
      return;
    }
    S.ws = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
    });
    ws.addEventListener('message', (ev) => {
      if (S.ws !== ws) return;
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === 'string') onFrame(frame);
    });
    ws.addEventListener('close', (ev) => {
      if (S.ws !== ws) return;
      S.ws = null;
      S.ready = false;
      if (S.unauthorized || ev.code === 4401 || ev.code === 4001) {
        forgetVisitor();
        return;
      }
      if (!opened) {
        // Browsers hide the handshake's HTTP status: ask the same URL over
        // HTTP whether the token is refused (401).
        tokenRefused().then((refused) => (refused ? forgetVisitor() : schedule()));
        return;
      }
      schedule();
    });
  }

  async function tokenRefused() {
    if (!S.token) return false;
    try {
      const u = apiURL('webchat/ws');
      u.searchParams.set('token', S.token);
      const res = await fetch(u.href, { credentials: 'omit', mode: 'cors', cache: 'no-store' });
      return res.status === 401;
    } catch {
      return false;
    }
  }

  function schedule() {
    if (!S.token || S.timer) return;
    if (S.reconnectNow) {
      S.reconnectNow = false;
      connect();
      return;
    }
    const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** S.attempt);
    S.attempt = Math.min(S.attempt + 1, 20);
    setStatus(t('widget.reconnecting'), 'warn');
    S.status = '';
    S.timer = setTimeout(() => {
      S.timer = null;
      connect();
    }, delay / 2 + (Math.random() * delay) / 2);
  }

  function wake() {
    if (S.timer && !document.hidden) {
      clearTimeout(S.timer);
      S.timer = null;
      connect();
    }
  }

  function onFrame(f) {
    switch (f.type) {
      case 'hello':
        onHello(f);
        break;
      case 'message':
        onMessage(f.message, f.conversation_id);
        break;
      case 'ack':
        onAck(f);
        break;
      case 'queue': {
        const position = Number(f.position) || 0;
        const secs = Number(f.estimated_wait_s) || 0;
        const qc = f.conversation_id ? String(f.conversation_id) : '';
        if (qc && qc !== S.cursor.conversation_id) {
          S.cursor = { conversation_id: qc, seq: 0 };
          saveCursor();
        }
        if (position > 0) {
          S.status = 'queued';
          setStatus(secs > 0 ? t('widget.queue', { position, minutes: Math.max(1, Math.ceil(secs / 60)) }) : t('widget.queue_no_eta', { position }));
        }
        break;
      }
      case 'agent_joined': {
        const name = (f.agent && f.agent.name) || t('widget.agent');
        S.agentName = name;
        store.set('agent', name);
        S.status = 'assigned';
        setStatus(t('widget.joined', { name }));
        addNotice('widget.joined', { name });
        break;
      }
      case 'typing':
        ui.typing.textContent = S.agentName ? t('widget.typing_named', { name: S.agentName }) : t('widget.typing');
        clearTimeout(S.typingTimer);
        S.typingTimer = setTimeout(() => {
          ui.typing.textContent = '';
        }, TYPING_SHOW_MS);
        break;
      case 'abandoned':
        S.status = 'abandoned';
        ui.typing.textContent = '';
        setStatus(t('widget.left'));
        addNotice('widget.left');
        break;
      case 'resolved':
        S.status = 'resolved';
        S.agentName = '';
        store.remove('agent');
        ui.typing.textContent = '';
        setStatus(t('widget.resolved'));
        addNotice('widget.resolved');
        break;
      case 'error':
        onError(f);
        break;
      case 'survey':
        showSurvey(f);
        break;
      case 'rating_ack':
        onRatingAck(f);
        break;
      default:
        break; // frames this widget does not show
    }
  }

  // The rating card of a survey sent at resolution. It asks the survey's
  // questions one at a time: a scored question shows one button per score,
  // a text question a text box (which may be skipped). A survey of a single
  // question also takes an optional comment with the score. Each answer is
  // acknowledged (rating_ack) before the next question shows.
  function showSurvey(f) {
    const q = Array.isArray(f.questions) && f.questions[0];
    if (!q || typeof q.min !== 'number' || typeof q.max !== 'number' || !f.survey_id) return;
    S.survey = { frame: f, index: 0 };
    showQuestion();
  }

  function onRatingAck(f) {
    const sv = S.survey;
    if (!sv || String(sv.frame.survey_id) !== String(f.survey_id)) return;
    sv.index++;
    if (sv.index < sv.frame.questions.length) {
      showQuestion();
      return;
    }
    finishSurvey();
  }

  function finishSurvey() {
    if (S.surveyCard) S.surveyCard.remove();
    S.surveyCard = null;
    S.survey = null;
    addNotice('widget.rating_thanks');
  }

  function showQuestion() {
    const f = S.survey.frame;
    const i = S.survey.index;
    const q = f.questions[i];
    if (S.surveyCard) S.surveyCard.remove();
    const scored = typeof q.min === 'number' && typeof q.max === 'number';
    const qid = `parley-rating-q-${f.survey_id}-${i}`;
    const frame = { type: 'rating', survey_id: String(f.survey_id) };
    if (i > 0) frame.question = String(q.key);
    let score = null;
    const buttons = [];
    const send = el('button', { type: 'button', class: 'parley-rating-send', disabled: true }, t('widget.rating_send'));
    for (let n = scored ? q.min : 1; scored && n <= q.max; n++) {
      const label = Array.isArray(q.choices) && q.choices[n - 1] ? q.choices[n - 1] : String(n);
      const b = el('button', { type: 'button', class: 'parley-score', 'aria-pressed': 'false', 'aria-label': t('widget.rating_score', { n, max: q.max }) }, label);
      b.addEventListener('click', () => {
        score = n;
        for (const x of buttons) x.setAttribute('aria-pressed', String(x === b));
        send.disabled = false;
      });
      buttons.push(b);
    }
    const single = f.questions.length === 1;
    const label = scored ? t('widget.rating_comment') : q.text || '';
    const text = !scored || single ? el('textarea', { class: 'parley-rating-comment', maxlength: '2000', rows: '2', 'aria-label': label, placeholder: scored ? label : '' }) : null;
    if (!scored) text.addEventListener('input', () => { send.disabled = text.value.trim() === ''; });
    send.addEventListener('click', () => {
      if (scored && score === null) return;
      if (scored) frame.score = score;
      if (text && text.value.trim()) frame.comment = text.value.trim();
      if (!scored && !frame.comment) return;
      sendFrame(frame);
      send.disabled = true;
    });
    const skip = !scored ? el('button', { type: 'button', class: 'parley-rating-skip' }, t('widget.rating_skip')) : null;
    if (skip) skip.addEventListener('click', () => finishSurvey());
    const card = el('li', { class: 'parley-entry parley-rating', 'data-survey-id': String(f.survey_id), 'data-question': String(q.key || '') },
      i === 0 && f.intro ? el('p', { class: 'parley-text' }, f.intro) : null,
      el('p', { class: 'parley-text', id: qid }, q.text || ''),
      scored ? el('div', { class: 'parley-scores', role: 'group', 'aria-labelledby': qid }, ...buttons) : null,
      text, send, skip);
    S.surveyCard = card;
    ui.messages.appendChild(card);
    scrollToEnd();
  }

  function onHello(f) {
    const cid = f.conversation_id ? String(f.conversation_id) : '';
    if (cid && S.cursor.conversation_id && cid !== S.cursor.conversation_id && S.cursor.seq > 0) {
      // A new conversation began while we were away; our after_seq counted
      // the old one, so reconnect from its start.
      S.cursor = { conversation_id: cid, seq: 0 };
      saveCursor();
      S.reconnectNow = true;
      S.ws.close();
      return;
    }
    if (cid) {
      S.cursor.conversation_id = cid;
      saveCursor();
    }
    S.ready = true;
    S.attempt = 0;
    if (f.status === 'resolved' || f.status === 'abandoned') {
      S.status = f.status;
      setStatus(t(f.status === 'resolved' ? 'widget.resolved' : 'widget.left'));
    } else if (f.status === 'queued') {
      S.status = 'queued';
      setStatus(t('widget.waiting'));
    } else if (f.status === 'assigned' && S.agentName) {
      S.status = 'assigned';
      setStatus(t('widget.joined', { name: S.agentName }));
    } else {
      S.status = f.status || '';
      setStatus('');
    }
    for (const e of S.log) {
      if (e.kind === 'msg' && e.state === 'pending') transmit(e);
    }
  }

  function onMessage(m, frameConversationID) {
    if (!m || m.private) return;
    if (!m.conversation_id && frameConversationID) m.conversation_id = frameConversationID;
    const id = m.id !== undefined && m.id !== null ? String(m.id) : '';
    let e = S.log.find((x) => x.kind === 'msg' && ((id && x.id === id) || (m.client_msg_id && x.client_msg_id === m.client_msg_id)));
    if (e) {
      e.id = id || e.id;
      e.seq = m.seq || e.seq;
      e.conversation_id = m.conversation_id ? String(m.conversation_id) : e.conversation_id;
      e.created_at = m.created_at || e.created_at;
      e.state = '';
      updateEntry(e);
    } else {
      const sender = m.sender || {};
      e = {
        kind: 'msg',
        key: id ? `m:${id}` : `s:${m.conversation_id}:${m.seq}`,
        id,
        seq: m.seq,
        conversation_id: m.conversation_id ? String(m.conversation_id) : '',
        client_msg_id: m.client_msg_id || '',
        body: m.body || '',
        mine: m.direction === 'in' || sender.type === 'customer',
        senderType: sender.type || '',
        senderName: sender.name || '',
        created_at: m.created_at,
        state: '',
      };
      S.log.push(e);
      appendEntry(e);
      if (!e.mine) {
        ui.typing.textContent = '';
        if (!S.open || document.hidden) {
          S.unread++;
          renderBadge();
        }
      }
    }
    const cid = m.conversation_id ? String(m.conversation_id) : S.cursor.conversation_id;
    const seq = Number(m.seq) || 0;
    if (cid && cid !== S.cursor.conversation_id) S.cursor = { conversation_id: cid, seq };
    else S.cursor.seq = Math.max(Number(S.cursor.seq) || 0, seq);
    saveCursor();
    saveLog();
  }

  function onAck(f) {
    const e = S.log.find((x) => x.kind === 'msg' && x.client_msg_id === f.client_msg_id);
    if (!e) return;
    e.state = '';
    if (f.message_id !== undefined && f.message_id !== null) e.id = String(f.message_id);
    if (f.seq) e.seq = f.seq;
    updateEntry(e);
    saveLog();
  }

  function onError(f) {
    const ref = f.ref ? String(f.ref) : '';
    const e = ref && S.log.find((x) => x.kind === 'msg' && x.client_msg_id === ref);
    if (e) {
      e.state = 'failed';
      updateEntry(e);
      saveLog();
    }
    if (f.code === 'unauthorized') {
      S.unauthorized = true;
      if (S.ws) S.ws.close();
      return;
    }
    if (!e) setStatus(f.message || t('widget.error'), 'error');
  }

  // ------------------------------------------------------------ sending

  function uuid() {
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function transmit(e) {
    e.state = 'pending';
    e.sentAt = Date.now();
    updateEntry(e);
    sendFrame({ type: 'message', body: e.body, client_msg_id: e.client_msg_id });
  }

  function retry(e) {
    transmit(e);
    saveLog();
  }

  function sendMessage() {
    const body = ui.input.value.trim();
    if (!body || !S.token) return;
    const cid = uuid();
    const e = {
      kind: 'msg',
      key: `c:${cid}`,
      id: '',
      seq: 0,
      conversation_id: S.cursor.conversation_id,
      client_msg_id: cid,
      body,
      mine: true,
      senderType: 'customer',
      senderName: '',
      created_at: new Date().toISOString(),
      state: 'pending',
      sentAt: Date.now(),
    };
    S.log.push(e);
    saveLog();
    appendEntry(e);
    ui.input.value = '';
    autosize();
    if (S.status === 'resolved' || S.status === 'abandoned') {
      S.status = '';
      setStatus('');
    }
    sendFrame({ type: 'message', body, client_msg_id: cid });
    if (!S.ws) connect();
  }

  // Sends still unacknowledged after a while on an open socket are marked
  // failed (click to retry); on a closed socket they wait for reconnect.
  function checkAcks() {
    if (!S.ready) return;
    const now = Date.now();
    for (const e of S.log) {
      if (e.kind === 'msg' && e.state === 'pending' && e.sentAt && now - e.sentAt > ACK_TIMEOUT_MS) {
        e.state = 'failed';
        updateEntry(e);
      }
    }
  }

  // ------------------------------------------------------------ start

  function init() {
    build();
    renderTranscript();
    if (S.token) {
      showChat();
      connect();
    } else {
      showPrechat();
    }
    loadInbox();
    if (sessionFlag('open')) openPanel(false);
    window.addEventListener('online', wake);
    document.addEventListener('visibilitychange', () => {
      wake();
      if (!document.hidden && S.open && S.unread) {
        S.unread = 0;
        renderBadge();
      }
    });
    setInterval(checkAcks, 5000);
  }

  window.ParleyWidget = {
    open: () => openPanel(true),
    close: () => closePanel(false),
  };

  if (document.body) init();
  else document.addEventListener('DOMContentLoaded', init);
})();
