// Feedback items (complaints, suggestions, praise): the list page — agents
// see their own, supervisors and admins every item with filters, the owner
// and the status changed in the row, overdue items marked — and the "Log
// feedback" form on a conversation. Customer text is always inserted as
// text (h() has no way to pass markup).

import { h } from './dom.js';
import { t, tOr, formatDateTime } from './i18n.js';
import { SidePanel, errorText } from './panel.js';

const KINDS = ['complaint', 'suggestion', 'praise'];
const STATUSES = ['open', 'in_progress', 'resolved'];
// The moves the server allows (feedback.CanMove).
const MOVES = { open: ['in_progress'], in_progress: ['resolved', 'open'], resolved: [] };

export class Feedback extends SidePanel {
  constructor({ api, toast, currentConversation }) {
    super();
    this.api = api;
    this.toast = toast;
    this.currentConversation = currentConversation; // () => id of the open conversation or null
    this.el = null;
    this.agent = null;
    this.settings = null;
    this.agents = [];
    this.queues = [];
    this.filters = { status: '', kind: '', overdue: false, mine: false };
  }

  get supervisor() {
    return Boolean(this.agent && (this.agent.role === 'supervisor' || this.agent.role === 'admin'));
  }

  bind() {
    if (this.el) return;
    if (!this.bindPanel({ open: 'feedback-open', log: 'feedback-log', panel: 'feedback-panel', close: 'feedback-close', form: 'feedback-form',
      filters: 'feedback-filters', list: 'feedback-list', empty: 'feedback-empty', head: 'feedback-head', status: 'feedback-status',
      report: 'feedback-report', settings: 'feedback-settings' })) return;
    this.el.log.addEventListener('click', () => this.openPanel({ form: true }));
  }

  start(agent) {
    this.bind();
    this.agent = agent;
    this.showEntry(true);
  }

  stop() {
    this.agent = null;
    this.showEntry(false);
  }

  // onFrame shows a toast when an item is opened for this agent.
  onFrame(f) {
    if (!f || f.type !== 'feedback' || !f.item) return;
    const it = f.item;
    this.toast(t('feedback.assigned', { kind: kindLabel(it.kind), id: it.id }), it.kind === 'complaint' ? 'warning' : 'info');
    if (this.el && !this.el.panel.hidden) this.load();
  }

  async loadReference() {
    const calls = [this.api.get('/feedback/settings'), this.api.get('/queues')];
    if (this.supervisor) calls.push(this.api.get('/agents'));
    const [settings, queues, agents] = await Promise.all(calls);
    this.settings = settings;
    this.queues = (queues && queues.items) || [];
    this.agents = (agents && agents.items) || [];
  }

  async openPanel({ form = false } = {}) {
    if (!this.agent) return;
    this.showPanel();
    try {
      await this.loadReference();
    } catch {
      this.setStatus(t('feedback.load_error'), 'error');
      return;
    }
    const conv = this.currentConversation();
    this.renderForm(form && conv ? conv : null);
    this.renderFilters();
    this.renderHead();
    await this.load();
    this.loadReport();
    this.renderSettings();
    if (form && conv) this.el.form.querySelector('select').focus();
    else this.el.close.focus();
  }

  query() {
    const q = new URLSearchParams();
    if (this.filters.status) q.set('status', this.filters.status);
    if (this.filters.kind) q.set('kind', this.filters.kind);
    if (this.filters.overdue) q.set('overdue', 'true');
    if (this.filters.mine) q.set('mine', 'true');
    q.set('limit', '100');
    return q.toString();
  }

  async load() {
    let items = [];
    try {
      const res = await this.api.get(`/feedback?${this.query()}`);
      items = (res && res.items) || [];
    } catch {
      this.setStatus(t('feedback.load_error'), 'error');
      this.el.list.replaceChildren();
      return;
    }
    this.el.list.replaceChildren(...items.map((it) => this.row(it)));
    this.el.empty.hidden = items.length > 0;
    this.el.empty.textContent = t('feedback.empty');
  }

  // loadReport shows supervisors the most common categories and the weekly
  // trend of the last eight weeks.
  async loadReport() {
    this.el.report.hidden = !this.supervisor;
    if (!this.supervisor) return;
    const from = new Date(Date.now() - 56 * 86400000).toISOString().replace(/\.\d+Z$/, 'Z');
    let rep;
    try {
      rep = await this.api.get(`/reports/feedback-items?from=${encodeURIComponent(from)}`);
    } catch {
      this.el.report.replaceChildren(h('p', { class: 'empty' }, t('feedback.load_error')));
      return;
    }
    const table = (cols, rows) => h('table', { class: 'inboxes-table' },
      h('thead', null, h('tr', null, ...cols.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, ...rows.map((r) => h('tr', null, ...r.map((v) => h('td', null, String(v)))))));
    const cats = (rep.categories || []).slice(0, 10);
    const weeks = rep.weeks || [];
    this.el.report.replaceChildren(
      h('h3', { class: 'section-title' }, t('feedback.report.title')),
      cats.length === 0 ? h('p', { class: 'muted' }, t('feedback.empty')) :
        table([t('feedback.col.category'), t('feedback.col.kind'), t('feedback.report.count'), t('feedback.report.open'), t('feedback.overdue')],
          cats.map((c) => [tOr(`feedback.category.${c.category}`, c.category), kindLabel(c.kind), c.count, c.open, c.overdue])),
      weeks.length === 0 ? null :
        table([t('feedback.report.week'), kindLabel('complaint'), kindLabel('suggestion'), kindLabel('praise'), t('feedback.report.total')],
          weeks.map((w) => [w.week, w.complaint, w.suggestion, w.praise, w.total])),
    );
  }

  // renderSettings is the admins' editor of the feedback rules: SLA hours
  // and follow-up queue per kind, categories, the detractor thresholds and
  // the complaint keywords in English and Chinese.
  renderSettings() {
    const admin = Boolean(this.agent && this.agent.role === 'admin');
    this.el.settings.hidden = !admin || !this.settings;
    if (!admin || !this.settings) return;
    const st = this.settings;
    const num = (id, v, min, max) => h('input', { id, type: 'number', min: String(min), max: String(max), value: String(v ?? '') });
    const lines = (id, list) => {
      const x = h('textarea', { id, rows: '4' });
      x.value = (list || []).join('\n');
      return x;
    };
    const check = (id, on) => h('input', { id, type: 'checkbox', checked: Boolean(on) });
    const sla = Object.fromEntries(KINDS.map((k) => [k, num(`feedback-sla-${k}`, (st.sla_hours || {})[k], 1, 8760)]));
    const queue = Object.fromEntries(KINDS.map((k) => [k, h('select', { id: `feedback-queue-${k}` },
      h('option', { value: '' }, t('feedback.followup_none')),
      ...this.queues.map((q) => h('option', { value: q.id, selected: String((st.followup_queues || {})[k] || '') === String(q.id) }, q.name)))]));
    const cats = lines('feedback-categories', st.categories);
    const owner = check('feedback-owner-agent', st.owner_is_agent);
    const det = st.detractor || {};
    const detOn = check('feedback-detractor-on', det.enabled);
    const npsMax = num('feedback-nps-max', det.nps_max, 0, 10);
    const csatMax = num('feedback-csat-max', det.csat_max, 1, 5);
    const kw = st.keywords || {};
    const kwOn = check('feedback-keywords-on', kw.enabled);
    const kwEn = lines('feedback-keywords-en', (kw.words || {}).en);
    const kwZh = lines('feedback-keywords-zh', (kw.words || {})['zh-CN']);
    const save = h('button', { type: 'submit', id: 'feedback-settings-save', class: 'button button-primary' }, t('feedback.settings.save'));
    const label = (id, text) => h('label', { for: id }, text);
    const split = (x) => x.value.split('\n').map((w) => w.trim()).filter(Boolean);
    const form = h('form', { class: 'feedback-form' },
      h('h3', { class: 'section-title' }, t('feedback.settings.title')),
      ...KINDS.flatMap((k) => [label(`feedback-sla-${k}`, t('feedback.settings.sla', { kind: kindLabel(k) })), sla[k]]),
      ...KINDS.flatMap((k) => [label(`feedback-queue-${k}`, t('feedback.settings.queue', { kind: kindLabel(k) })), queue[k]]),
      label('feedback-categories', t('feedback.settings.categories')), cats,
      label('feedback-owner-agent', t('feedback.settings.owner_is_agent')), owner,
      label('feedback-detractor-on', t('feedback.settings.detractor')), detOn,
      label('feedback-nps-max', t('feedback.settings.nps_max')), npsMax,
      label('feedback-csat-max', t('feedback.settings.csat_max')), csatMax,
      label('feedback-keywords-on', t('feedback.settings.keywords')), kwOn,
      label('feedback-keywords-en', t('feedback.settings.words_en')), kwEn,
      label('feedback-keywords-zh', t('feedback.settings.words_zh')), kwZh,
      h('div', null, save));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = {
        sla_hours: Object.fromEntries(KINDS.map((k) => [k, Number(sla[k].value)])),
        followup_queues: Object.fromEntries(KINDS.map((k) => [k, queue[k].value])),
        categories: split(cats), owner_is_agent: owner.checked,
        detractor: { ...det, enabled: detOn.checked, nps_max: Number(npsMax.value), csat_max: Number(csatMax.value) },
        keywords: { ...kw, enabled: kwOn.checked, words: { en: split(kwEn), 'zh-CN': split(kwZh) } },
      };
      save.disabled = true;
      try {
        this.settings = await this.api.request('PUT', '/feedback/settings', body);
        this.setStatus(t('feedback.settings.saved'), 'ok');
      } catch (err) {
        this.setStatus(errorText(err), 'error');
      } finally {
        save.disabled = false;
      }
    });
    this.el.settings.replaceChildren(form);
  }

  renderFilters() {
    const select = (name, values, label, allLabel) =>
      h('label', null, h('span', null, label, ' '),
        h('select', { dataset: { filter: name }, on: { change: (e) => { this.filters[name] = e.target.value; this.load(); } } },
          h('option', { value: '' }, allLabel),
          ...values.map((v) => h('option', { value: v, selected: this.filters[name] === v }, tOr(`feedback.${name}.${v}`, v)))));
    const check = (name, label) =>
      h('label', { class: 'toggle' },
        h('input', { type: 'checkbox', dataset: { filter: name }, checked: this.filters[name], on: { change: (e) => { this.filters[name] = e.target.checked; this.load(); } } }),
        h('span', null, label));
    this.el.filters.replaceChildren(
      select('status', STATUSES, t('feedback.col.status'), t('feedback.all')),
      select('kind', KINDS, t('feedback.col.kind'), t('feedback.all')),
      check('overdue', t('feedback.only_overdue')),
      ...(this.supervisor ? [check('mine', t('feedback.only_mine'))] : []),
    );
  }

  renderHead() {
    const cols = ['id', 'kind', 'category', 'customer', 'summary', 'owner', 'status', 'due'];
    this.el.head.replaceChildren(h('tr', null, ...cols.map((c) => h('th', { scope: 'col' }, t(`feedback.col.${c}`)))));
  }

  row(it) {
    const statusSelect = h('select', { class: 'feedback-status-select', 'aria-label': t('feedback.col.status'), disabled: MOVES[it.status].length === 0,
      on: { change: (e) => this.patch(it, { status: e.target.value }) } },
      h('option', { value: it.status, selected: true }, tOr(`feedback.status.${it.status}`, it.status)),
      ...MOVES[it.status].map((s) => h('option', { value: s }, tOr(`feedback.status.${s}`, s))));
    let owner = it.owner_name || t('feedback.unassigned');
    if (this.supervisor) {
      owner = h('select', { class: 'feedback-owner-select', 'aria-label': t('feedback.col.owner'), on: { change: (e) => this.patch(it, { owner_id: e.target.value }) } },
        h('option', { value: '', selected: !it.owner_id }, t('feedback.unassigned')),
        ...this.agents.map((a) => h('option', { value: a.id, selected: a.id === it.owner_id }, a.name)));
    }
    const due = h('span', { class: ['feedback-due', it.overdue && 'feedback-overdue'] }, formatDateTime(it.due_at),
      it.overdue ? h('span', { class: 'feedback-overdue-badge' }, ' ', t('feedback.overdue')) : null);
    const score = it.survey_kind && it.survey_score !== undefined && it.survey_score !== null ? `${it.survey_kind.toUpperCase()} ${it.survey_score} · ` : '';
    return h('tr', { dataset: { feedbackId: it.id, overdue: it.overdue ? 'true' : 'false' } },
      h('td', null, `#${it.id}`),
      h('td', { class: 'feedback-kind', dataset: { kind: it.kind } }, kindLabel(it.kind)),
      h('td', null, tOr(`feedback.category.${it.category}`, it.category)),
      h('td', null, it.customer_name || `#${it.customer_id}`),
      h('td', { class: 'feedback-summary' }, score, it.summary || '',
        it.followup_conversation_id ? h('div', { class: 'muted' }, t('feedback.followup_opened', { id: it.followup_conversation_id })) :
          it.followup_queue_id ? h('div', { class: 'muted' }, t('feedback.followup_waiting')) : null),
      h('td', null, owner),
      h('td', null, statusSelect),
      h('td', null, due));
  }

  async patch(it, body) {
    try {
      await this.api.request('PATCH', `/feedback/${encodeURIComponent(it.id)}`, body);
      this.setStatus(t('feedback.saved'), 'ok');
    } catch (err) {
      this.setStatus(err.message || t('feedback.save_error'), 'error');
    }
    await this.load();
  }

  renderForm(conversationId) {
    const form = this.el.form;
    form.hidden = !conversationId;
    if (!conversationId) {
      form.replaceChildren();
      return;
    }
    const cats = (this.settings && this.settings.categories) || [];
    const kind = h('select', { id: 'feedback-kind', name: 'kind', required: true }, ...KINDS.map((k) => h('option', { value: k }, kindLabel(k))));
    const category = h('select', { id: 'feedback-category', name: 'category', required: true },
      ...cats.map((c) => h('option', { value: c }, tOr(`feedback.category.${c}`, c))));
    const summary = h('textarea', { id: 'feedback-summary', name: 'summary', rows: '3', maxlength: '2000' });
    const queue = h('select', { id: 'feedback-queue', name: 'followup_queue_id' },
      h('option', { value: 'default' }, t('feedback.followup_default')),
      h('option', { value: '' }, t('feedback.followup_none')),
      ...this.queues.map((q) => h('option', { value: q.id }, q.name)));
    const submit = h('button', { type: 'submit', id: 'feedback-submit', class: 'button button-primary' }, t('feedback.submit'));
    form.replaceChildren(
      h('h3', { class: 'section-title' }, t('feedback.form_title', { id: conversationId })),
      h('label', { for: 'feedback-kind' }, t('feedback.col.kind')), kind,
      h('label', { for: 'feedback-category' }, t('feedback.col.category')), category,
      h('label', { for: 'feedback-summary' }, t('feedback.col.summary')), summary,
      h('label', { for: 'feedback-queue' }, t('feedback.followup')), queue,
      h('div', null, submit),
    );
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const body = { kind: kind.value, category: category.value, summary: summary.value.trim(), conversation_id: String(conversationId) };
      if (queue.value !== 'default') body.followup_queue_id = queue.value;
      submit.disabled = true;
      try {
        const it = await this.api.post('/feedback', body);
        this.setStatus(t('feedback.created', { id: it.id }), 'ok');
        this.renderForm(null);
        await this.load();
      } catch (err) {
        this.setStatus(errorText(err), 'error');
      } finally {
        submit.disabled = false;
      }
    };
  }
}

function kindLabel(kind) {
  return tOr(`feedback.kind.${kind}`, kind);
}
