// Conversation tools under the conversation header: pending / snooze /
// open for an assigned conversation, reopen for a resolved one, and tag
// chips. Everything goes through the REST API; frames from other tabs and
// from the server (snooze timer, SLA tag escalations) update the thread.

import { h } from './dom.js';
import { t, formatDateTime, getLanguage } from './i18n.js';

const HOUR_MS = 3600 * 1000;

// localInputValue formats a Date for <input type="datetime-local">.
function localInputValue(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export class ConversationTools {
  constructor({ api, toast, onChange }) {
    this.api = api;
    this.toast = toast;
    this.onChange = onChange;
    this.root = null;
    this.key = '';
    this.busy = false;
  }

  mount() {
    if (this.root) return this.root;
    const header = document.querySelector('.conversation-header');
    if (!header) return null;
    this.root = h('div', { id: 'conversation-tools', class: 'conversation-tools' });
    header.after(this.root);
    return this.root;
  }

  // render draws the tools for a thread (null hides them). It redraws only
  // when something shown changed, so a half-typed tag survives new messages.
  render(th) {
    const root = this.mount();
    if (!root) return;
    if (!th) {
      root.hidden = true;
      this.key = '';
      return;
    }
    const c = th.conversation;
    const key = JSON.stringify([c.id, c.status, c.sub_status || '', c.snoozed_until || '', c.tags || [], th.isOpen, th.assigned, this.busy, getLanguage()]);
    if (key === this.key) return;
    this.key = key;
    root.hidden = false;
    root.replaceChildren(this.statusRow(th), this.tagRow(th));
  }

  statusRow(th) {
    const c = th.conversation;
    const row = h('div', { class: 'tools-row', role: 'group', 'aria-label': t('cs.status_group') });
    if (th.isOpen && c.status === 'assigned') {
      if (c.sub_status === 'pending') {
        row.append(h('span', { class: 'sub-status sub-status-pending', id: 'sub-status' }, t('cs.pending_label')));
      } else if (c.sub_status === 'snoozed') {
        row.append(h('span', { class: 'sub-status sub-status-snoozed', id: 'sub-status' }, t('cs.snoozed_label', { time: formatDateTime(c.snoozed_until) })));
      }
      if (c.sub_status) {
        row.append(this.button('cs-open', t('cs.open'), () => this.setStatus(th, 'open')));
      }
      if (c.sub_status !== 'pending') {
        row.append(this.button('cs-pending', t('cs.pending'), () => this.setStatus(th, 'pending'), t('cs.pending_hint')));
      }
      const until = h('input', { type: 'datetime-local', id: 'cs-snooze-until', class: 'snooze-input', value: localInputValue(new Date(Date.now() + HOUR_MS)) });
      row.append(
        h('label', { for: 'cs-snooze-until', class: 'visually-hidden' }, t('cs.snooze_until')),
        until,
        this.button('cs-snooze', t('cs.snooze'), () => {
          const at = new Date(until.value);
          if (!until.value || Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
            this.toast(t('cs.snooze_future'), 'error');
            return;
          }
          this.setStatus(th, 'snoozed', at.toISOString());
        }),
      );
    } else if (c.status === 'resolved' && th.assigned) {
      row.append(this.button('cs-reopen', t('cs.reopen'), () => this.reopen(th), t('cs.reopen_hint')));
    }
    return row;
  }

  tagRow(th) {
    const c = th.conversation;
    const tags = c.tags || [];
    const input = h('input', { type: 'text', id: 'cs-tag-input', class: 'tag-input', maxlength: '50', placeholder: t('cs.tag_placeholder'), autocomplete: 'off' });
    const add = () => {
      const v = input.value.trim();
      if (v) this.changeTags(th, [v], []);
    };
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.isComposing) {
        ev.preventDefault();
        add();
      }
    });
    return h(
      'div',
      { class: 'tools-row tag-row' },
      h('span', { class: 'muted' }, t('cs.tags')),
      h(
        'ul',
        { class: 'tag-chips', id: 'cs-tags', 'aria-label': t('cs.tags') },
        tags.map((tag) =>
          h(
            'li',
            { class: 'tag-chip', dataset: { tag } },
            h('span', {}, tag),
            h('button', { type: 'button', class: 'tag-remove', 'aria-label': t('cs.tag_remove', { tag }), disabled: this.busy, on: { click: () => this.changeTags(th, [], [tag]) } }, '×'),
          ),
        ),
      ),
      h('label', { for: 'cs-tag-input', class: 'visually-hidden' }, t('cs.tag_add')),
      input,
      this.button('cs-tag-add', t('cs.tag_add'), add),
    );
  }

  button(id, text, onClick, title) {
    return h('button', { type: 'button', id, class: 'button button-secondary button-small', title: title || null, disabled: this.busy, on: { click: onClick } }, text);
  }

  async run(th, fn) {
    if (this.busy) return;
    this.busy = true;
    this.key = '';
    this.render(th);
    try {
      const c = await fn();
      if (c) th.update(c);
    } catch (err) {
      this.toast(err.message || t('error.generic', { code: err.code }), 'error');
    } finally {
      this.busy = false;
      this.key = '';
      this.onChange(th);
    }
  }

  setStatus(th, status, until) {
    const body = { status };
    if (until) body.until = until;
    return this.run(th, () => this.api.post(`/conversations/${encodeURIComponent(th.id)}/status`, body));
  }

  reopen(th) {
    return this.run(th, async () => {
      const c = await this.api.post(`/conversations/${encodeURIComponent(th.id)}/reopen`);
      this.toast(t('cs.reopened'), 'info');
      th.update(c);
      th.assigned = false; // back in the queue until its offer is accepted
      return null;
    });
  }

  changeTags(th, add, remove) {
    return this.run(th, () => this.api.post(`/conversations/${encodeURIComponent(th.id)}/tags`, { add, remove }));
  }

  // onFrame applies conversation_status, tags and reopened frames; it
  // returns the thread that changed (or null).
  onFrame(f, threads) {
    const th = threads.get(String(f.conversation_id));
    if (!th) return null;
    if (f.type === 'conversation_status') {
      th.conversation.sub_status = f.sub_status || '';
      th.conversation.snoozed_until = f.snoozed_until || '';
      if (f.reason === 'timer') this.toast(t('cs.snooze_ended', { name: th.conversation.customer_name || '' }), 'info');
    } else if (f.type === 'tags') {
      th.conversation.tags = f.tags || [];
    } else if (f.type === 'reopened') {
      th.conversation.status = 'queued';
      th.assigned = false;
    } else {
      return null;
    }
    return th;
  }

  // onCustomerMessage mirrors the server: a customer message makes a
  // pending or snoozed conversation open again.
  onCustomerMessage(th) {
    if (th && th.conversation.sub_status) {
      th.conversation.sub_status = '';
      th.conversation.snoozed_until = '';
    }
  }
}

// readOnlyTags renders a conversation's tags and sub-status for supervisor
// views (the wallboard): small chips, text only.
export function readOnlyTags(c) {
  const out = [];
  if (c.sub_status) out.push(h('span', { class: ['status-badge', `sub-status-${c.sub_status}`] }, t(`cs.sub.${c.sub_status}`)));
  for (const tag of c.tags || []) out.push(h('span', { class: 'tag-chip tag-chip-static', dataset: { tag } }, tag));
  return out;
}
