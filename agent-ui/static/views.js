// Rendering of console pieces. Every value from the server is inserted as
// text (via h(), which creates text nodes), never parsed as markup.

import { h, initials } from './dom.js';
import { t, tOr, formatTime, formatDate, formatDateTime } from './i18n.js';
import { mergeButton, noteForm, stageControl, attributesForm, historySection, timezoneText, regionText, preferredChannelControl, consentSection } from './customer.js';

export function channelLabel(channel) {
  return tOr(`channel.${channel}`, channel || '');
}

export function statusLabel(status) {
  return tOr(`status.${status}`, status || '');
}

function stageLabel(stage) {
  return tOr(`stage.${String(stage || '').toLowerCase()}`, stage || '');
}

function senderName(m, me, customerName) {
  const s = m.sender || {};
  if (s.type === 'system') return t('msg.system');
  if (s.type === 'agent' && me && String(s.id) === String(me.id)) return t('msg.you');
  if (s.name) return s.name;
  if (s.type === 'agent') return t('msg.agent');
  return customerName || t('msg.customer');
}

const DELIVERY_MARKS = { queued: '✓', sent: '✓', delivered: '✓✓', failed: '!' };

function deliveryTick(m) {
  if (m.localState === 'pending') {
    return h('span', { class: 'delivery', dataset: { delivery: 'pending' }, title: t('msg.pending'), 'aria-label': t('msg.pending') }, '…');
  }
  const d = m.delivery || 'queued';
  return h(
    'span',
    { class: 'delivery', dataset: { delivery: d }, title: tOr(`delivery.${d}`, d), 'aria-label': tOr(`delivery.${d}`, d) },
    DELIVERY_MARKS[d] || '✓',
  );
}

function safeHref(url) {
  try {
    const u = new URL(String(url), location.href);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

function attachmentList(attachments) {
  if (!attachments || attachments.length === 0) return null;
  return h(
    'ul',
    { class: 'attachments' },
    attachments.map((a) => {
      const label = a.name || a.filename || t('msg.attachment');
      if (a.refused) {
        return h('li', { class: 'attachment-refused' }, t('msg.attachment_refused', { name: label, reason: a.refused }));
      }
      const url = String(a.url || '');
      if (url.startsWith('/api/')) {
        // A file kept by Parley (an email attachment): downloaded with the session cookie.
        const link = h('a', { class: 'attachment-link', download: label }, label);
        link.setAttribute('href', url);
        return h('li', null, link);
      }
      const href = safeHref(a.url);
      if (href && String(a.content_type || '').startsWith('audio/')) {
        // A voicemail or call recording: played in place.
        const player = h('audio', { class: 'attachment-audio', controls: '', preload: 'none' });
        player.setAttribute('src', href);
        player.setAttribute('aria-label', label);
        return h('li', null, player, h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, label));
      }
      return h('li', null, href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, label) : label);
    }),
  );
}

// formattedToggle offers the sanitised HTML of an email (m.html_url) in a
// sandboxed frame; the plain text stays the default view. The frame is made
// only when asked for, and only for a URL of Parley's own API (served with a
// strict Content-Security-Policy and the session cookie).
function formattedToggle(m, bodyEl) {
  const url = String(m.html_url || '');
  if (!url.startsWith('/api/')) return null;
  const wrap = h('div', { class: 'message-formatted' });
  let frame = null;
  const button = h('button', { type: 'button', class: 'button button-link message-format-toggle', 'aria-expanded': 'false' }, t('msg.show_formatted'));
  button.addEventListener('click', () => {
    if (frame) {
      frame.remove();
      frame = null;
      bodyEl.hidden = false;
      button.textContent = t('msg.show_formatted');
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    frame = document.createElement('iframe');
    frame.setAttribute('sandbox', '');
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.setAttribute('loading', 'lazy');
    frame.setAttribute('title', t('msg.formatted_title'));
    frame.className = 'message-html';
    frame.setAttribute('src', url);
    wrap.appendChild(frame);
    bodyEl.hidden = true;
    button.textContent = t('msg.show_text');
    button.setAttribute('aria-expanded', 'true');
  });
  wrap.insertBefore(button, wrap.firstChild);
  return wrap;
}

// messageItem renders one message (stored or pending). opts.onRetry is
// called for failed pending sends; opts.customerName names the customer's
// messages when the sender carries no name.
export function messageItem(m, { me, onRetry, customerName } = {}) {
  const s = m.sender || {};
  const system = s.type === 'system';
  const outbound = m.direction === 'out';
  const cls = ['message', outbound ? 'message-out' : 'message-in'];
  if (m.private) cls.push('message-private');
  if (system) cls.push('message-system');
  if (m.localState === 'pending') cls.push('message-pending');
  if (m.localState === 'failed') cls.push('message-failed');

  const meta = h(
    'div',
    { class: 'message-meta' },
    h('span', { class: 'message-sender' }, senderName(m, me, customerName)),
    m.private ? h('span', { class: 'message-flag' }, t('msg.private')) : null,
    h('time', { class: 'message-time', datetime: m.created_at || null, title: formatDateTime(m.created_at) }, formatTime(m.created_at)),
  );

  const body = h('p', { class: 'message-body' }, m.body || '');
  const footer = [];
  if (m.localState === 'failed') {
    footer.push(
      h('span', { class: 'message-error', role: 'alert' }, t('msg.failed', { reason: m.error || t('msg.failed_timeout') })),
      onRetry ? h('button', { type: 'button', class: 'button button-link message-retry', on: { click: () => onRetry(m) } }, t('msg.retry')) : null,
    );
  } else if (outbound && !m.private && !system) {
    footer.push(deliveryTick(m));
  }

  return h(
    'li',
    {
      class: cls,
      dataset: { seq: m.seq || null, id: m.id || null, clientMsgId: m.client_msg_id || null, delivery: m.delivery || null },
    },
    meta,
    body,
    formattedToggle(m, body),
    attachmentList(m.attachments),
    footer.length ? h('div', { class: 'message-footer' }, footer) : null,
  );
}

export function conversationItem(thread, { active, me }) {
  const c = thread.conversation;
  const name = c.customer_name || (thread.customer && thread.customer.name) || t('customer.unknown');
  const last = thread.lastMessage();
  let preview = t('list.no_messages');
  if (last) {
    const who = last.direction === 'out' ? `${senderName(last, me)}: ` : '';
    preview = (last.private ? `${t('msg.private')} · ` : '') + who + (last.body || t('msg.attachment'));
  }
  const cls = ['conversation-item'];
  if (active) cls.push('is-active');
  if (!thread.isOpen) cls.push('is-closed');
  if (thread.unread > 0) cls.push('has-unread');
  const when = last ? last.created_at : c.assigned_at || c.created_at;
  return h(
    'li',
    { class: cls, dataset: { id: c.id, status: c.status } },
    h(
      'button',
      { type: 'button', class: 'conversation-button', 'aria-current': active ? 'true' : null },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(name)),
      h(
        'span',
        { class: 'conversation-text' },
        h(
          'span',
          { class: 'conversation-top' },
          h('span', { class: 'conversation-name' }, name),
          h('time', { class: 'conversation-time', datetime: when || null }, formatTime(when)),
        ),
        h(
          'span',
          { class: 'conversation-bottom' },
          h('span', { class: ['channel-badge', `channel-${c.channel}`] }, channelLabel(c.channel)),
          !thread.isOpen ? h('span', { class: 'status-badge' }, thread.assigned ? statusLabel(c.status) : t('list.resolved')) : null,
          thread.isOpen && c.sub_status ? h('span', { class: ['status-badge', `sub-status-${c.sub_status}`] }, t(`cs.sub.${c.sub_status}`)) : null,
          thread.isOpen ? slaBadge(thread.sla) : null,
          h('span', { class: 'conversation-preview' }, preview),
        ),
      ),
      thread.unread > 0
        ? h('span', { class: 'unread-badge', 'aria-label': t('list.unread', { n: thread.unread }) }, String(thread.unread > 99 ? '99+' : thread.unread))
        : null,
    ),
  );
}

// offerCard renders a pending offer; ids #offer-accept / #offer-reject are
// assigned by the caller to the first card of the stack.
// callModeBadge marks a voice conversation whose caller asked for a
// callback or left a voicemail after the queue's maximum wait.
function callModeBadge(conv) {
  const mode = conv.meta && conv.meta.call_mode;
  if (mode !== 'callback' && mode !== 'voicemail') return null;
  return h('span', { class: ['call-mode', `call-mode-${mode}`] }, t(`call.mode.${mode}`));
}

export function offerCard(offer, { me, onAccept, onReject }) {
  const conv = offer.conversation || {};
  const customer = offer.customer || {};
  const name = customer.name || conv.customer_name || t('customer.unknown');
  const messages = [...(conv.messages || [])].sort((a, b) => a.seq - b.seq);
  const shown = messages.slice(-8);
  const queueName = (offer.queue && offer.queue.name) || '';
  const titleId = `offer-title-${offer.id}`;
  return h(
    'article',
    { class: 'offer-card', dataset: { offerId: offer.id, conversationId: conv.id }, 'aria-labelledby': titleId },
    h(
      'header',
      { class: 'offer-head' },
      h('span', { class: 'offer-queue' }, h('span', { class: 'visually-hidden' }, `${t('offer.queue')}: `), queueName),
      h('span', { class: 'offer-countdown', role: 'timer', 'aria-label': t('offer.countdown_label') }, ''),
    ),
    h('div', { class: 'offer-progress', 'aria-hidden': 'true' }, h('div', { class: 'offer-progress-bar' })),
    h(
      'div',
      { class: 'offer-who' },
      h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(name)),
      h(
        'div',
        null,
        h('h3', { class: 'offer-customer', id: titleId }, name),
        h(
          'p',
          { class: 'offer-meta' },
          h('span', { class: ['channel-badge', `channel-${conv.channel}`] }, channelLabel(conv.channel)),
          conv.topic ? h('span', { class: 'offer-topic' }, conv.topic) : null,
          customer.lifecycle_stage
            ? h('span', { class: ['stage-badge', `stage-${String(customer.lifecycle_stage).toLowerCase()}`], title: t('customer.stage') }, stageLabel(customer.lifecycle_stage))
            : null,
          customer.preferred_channel
            ? h('span', { class: 'offer-prefers', title: t('customer.preferred_channel') }, t('customer.prefers', { channel: channelLabel(customer.preferred_channel) }))
            : null,
          callModeBadge(conv),
        ),
      ),
    ),
    h(
      'ol',
      { class: 'offer-messages thread thread-compact' },
      messages.length > shown.length ? h('li', { class: 'thread-note' }, t('offer.more_messages', { n: messages.length - shown.length })) : null,
      shown.length ? shown.map((m) => messageItem(m, { me, customerName: name })) : h('li', { class: 'thread-note' }, t('offer.no_messages')),
    ),
    h('p', { class: 'offer-status', role: 'status', hidden: true }),
    h(
      'div',
      { class: 'offer-actions' },
      h('button', { type: 'button', class: 'button button-secondary offer-reject', on: { click: onReject } }, t('offer.reject')),
      h('button', { type: 'button', class: 'button button-primary offer-accept', on: { click: onAccept } }, t('offer.accept')),
    ),
  );
}

function fact(label, value) {
  return [h('dt', null, label), h('dd', null, value || t('customer.none'))];
}

function attributeText(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

// actions (customer.js customerActions), when given, adds the CRM controls.
export function customerPanel(customer, { me, currentId, actions }) {
  if (!customer) return [h('p', { class: 'empty' }, t('customer.empty'))];
  const name = customer.name || t('customer.unknown');
  const tags = customer.tags || [];
  const identities = customer.identities || [];
  const attributes = Object.entries(customer.attributes || {});
  const past = (customer.past_conversations || []).filter((c) => String(c.id) !== String(currentId));
  const attrForm = attributesForm(customer, actions);

  const nodes = [
    h(
      'div',
      { class: 'customer-card' },
      h('span', { class: 'avatar avatar-large', 'aria-hidden': 'true' }, initials(name)),
      h(
        'div',
        null,
        h('h3', { class: 'customer-name' }, name),
        customer.lifecycle_stage
          ? h('span', { class: ['stage-badge', `stage-${String(customer.lifecycle_stage).toLowerCase()}`], title: t('customer.stage') }, stageLabel(customer.lifecycle_stage))
          : null,
      ),
    ),
    h(
      'dl',
      { class: 'facts' },
      fact(t('customer.email'), customer.email),
      fact(t('customer.phone'), customer.phone),
      customer.locale ? fact(t('customer.locale'), customer.locale) : null,
      customer.region ? fact(t('customer.region'), regionText(customer)) : null,
      customer.timezone ? fact(t('customer.timezone'), timezoneText(customer)) : null,
      customer.browser_language ? fact(t('customer.browser_language'), customer.browser_language) : null,
      actions
        ? [h('dt', null, t('customer.preferred_channel')), h('dd', null, preferredChannelControl(customer, actions, channelLabel))]
        : customer.preferred_channel ? fact(t('customer.preferred_channel'), channelLabel(customer.preferred_channel)) : null,
      actions ? [h('dt', null, t('customer.stage')), h('dd', null, stageControl(customer, actions))] : fact(t('customer.stage'), stageLabel(customer.lifecycle_stage)),
      fact(t('customer.since'), formatDate(customer.created_at)),
    ),
    h(
      'section',
      { class: 'panel-section' },
      h('h4', null, t('customer.tags')),
      tags.length ? h('ul', { class: 'tags' }, tags.map((tag) => h('li', { class: 'tag' }, tag))) : h('p', { class: 'muted' }, t('customer.no_tags')),
    ),
    h(
      'section',
      { class: 'panel-section' },
      h('h4', null, t('customer.identities')),
      identities.length
        ? h(
            'ul',
            { class: 'identities' },
            identities.map((id) =>
              h(
                'li',
                { class: 'identity', dataset: { channel: id.channel } },
                h('span', { class: ['channel-badge', `channel-${id.channel}`] }, channelLabel(id.channel)),
                h('span', { class: 'identity-address' }, id.address || ''),
                id.since ? h('span', { class: 'identity-since muted' }, t('customer.identity_since', { date: formatDate(id.since) })) : null,
              ),
            ),
          )
        : h('p', { class: 'muted' }, t('customer.none')),
    ),
    consentSection(customer, actions, channelLabel),
    (customer.duplicates || []).length
      ? h(
          'section',
          { class: 'panel-section customer-duplicates' },
          h('h4', null, t('customer.duplicates')),
          h(
            'ul',
            { class: 'duplicates' },
            customer.duplicates.map((d) =>
              h(
                'li',
                { class: 'duplicate', dataset: { customerId: String(d.customer.id) } },
                h('span', { class: 'duplicate-name' }, d.customer.name || t('customer.unknown')),
                h('span', { class: 'duplicate-reasons muted' }, (d.reasons || []).map((r) => t(`customer.reason.${r}`)).join(', ')),
                mergeButton(d, actions),
              ),
            ),
          ),
        )
      : null,
    (customer.notes || []).length || actions
      ? h(
          'section',
          { class: 'panel-section customer-notes' },
          h('h4', null, t('customer.notes')),
          noteForm(actions),
          h('ul', { class: 'notes' }, (customer.notes || []).map((n) => h('li', { class: 'note' }, h('span', { class: 'note-author muted' }, n.author_name || ''), h('p', { class: 'note-body' }, n.body || '')))),
        )
      : null,
    attributes.length || attrForm
      ? h(
          'section',
          { class: 'panel-section customer-attributes' },
          h('h4', null, t('customer.attributes')),
          attrForm,
          h('dl', { class: 'facts facts-compact' }, attributes.filter(([k]) => !(actions && (customer.attribute_defs || []).some((d) => d.key === k))).map(([k, v]) => fact(k, attributeText(v)))),
        )
      : null,
    historySection(actions),
    h(
      'section',
      { class: 'panel-section' },
      h('h4', null, t('customer.past')),
      past.length
        ? h(
            'ul',
            { class: 'past-list' },
            past.map((c) => {
              const msgs = [...(c.messages || [])].sort((a, b) => a.seq - b.seq);
              return h(
                'li',
                null,
                h(
                  'details',
                  { class: 'past-conversation', dataset: { id: c.id } },
                  h(
                    'summary',
                    null,
                    h('span', { class: 'past-date' }, formatDate(c.created_at)),
                    h('span', { class: ['channel-badge', `channel-${c.channel}`] }, channelLabel(c.channel)),
                    c.topic ? h('span', { class: 'past-topic' }, c.topic) : null,
                    h('span', { class: 'past-count muted' }, msgs.length === 1 ? t('customer.past_message_one') : t('customer.past_messages', { n: msgs.length })),
                  ),
                  h('ol', { class: 'thread thread-compact' }, msgs.length ? msgs.map((m) => messageItem(m, { me, customerName: customer.name })) : h('li', { class: 'thread-note' }, t('offer.no_messages'))),
                ),
              );
            }),
          )
        : h('p', { class: 'muted' }, t('customer.no_past')),
    ),
  ];
  return nodes.filter(Boolean);
}

// ---------------------------------------------------------------- SLA

const SLA_LIVE = ['breached', 'warning', 'running', 'paused'];

// slaKindLabel names a clock.
export function slaKindLabel(kind) {
  switch (kind) {
    case 'first_response':
      return t('sla.kind.first_response');
    case 'next_response':
      return t('sla.kind.next_response');
    case 'resolution':
      return t('sla.kind.resolution');
    case 'answer':
      return t('sla.kind.answer');
    default:
      return String(kind || '');
  }
}

function slaDuration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return t('sla.s', { n: s });
  if (s < 3600) return t('sla.m', { n: Math.floor(s / 60), s: s % 60 });
  if (s < 48 * 3600) return t('sla.h', { n: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
  return t('sla.d', { n: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600) });
}

// urgentClock picks the clock to show: breached first, then the soonest due;
// paused clocks last. clocks maps kind to {state, due_at, ...}.
export function urgentClock(clocks) {
  const live = Object.values(clocks || {}).filter((c) => c.status !== 'stopped' && SLA_LIVE.includes(c.state));
  live.sort((a, b) => {
    const ra = SLA_LIVE.indexOf(a.state) === 3 ? 1 : 0;
    const rb = SLA_LIVE.indexOf(b.state) === 3 ? 1 : 0;
    if (ra !== rb) return ra - rb;
    return (Date.parse(a.due_at) || Infinity) - (Date.parse(b.due_at) || Infinity);
  });
  return live[0] || null;
}

// slaBadgeText is the time left (or overdue) of a clock at now.
export function slaBadgeText(clock, now = Date.now()) {
  if (clock.state === 'paused' || !clock.due_at) return t('sla.paused');
  const ms = Date.parse(clock.due_at) - now;
  return ms >= 0 ? t('sla.left', { time: slaDuration(ms) }) : t('sla.overdue', { time: slaDuration(-ms) });
}

// slaBadge shows a conversation's most urgent SLA clock, coloured by state;
// the console's tick refreshes its text.
export function slaBadge(clocks) {
  const c = urgentClock(clocks);
  if (!c) return null;
  const overdue = c.state !== 'paused' && Date.parse(c.due_at) < Date.now();
  return h(
    'span',
    { class: ['sla-badge', `sla-${overdue ? 'breached' : c.state}`], dataset: { due: c.due_at || null, state: c.state }, title: slaKindLabel(c.kind) },
    slaBadgeText(c),
  );
}
