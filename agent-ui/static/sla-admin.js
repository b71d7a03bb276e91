// Admins' SLA page: policies (targets, matching rule, business hours,
// escalations) and business-hours calendars (weekly hours, holidays,
// make-up working days, import of a list of dates). It builds its own
// panel, talks only to /api/v1/sla/*, and inserts every value as text.

import { h } from './dom.js';
import { t, tOr } from './i18n.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const CHANNELS = ['webchat', 'email', 'sms', 'whatsapp', 'voice', 'telegram', 'messenger', 'wechat'];
const TARGETS = ['first_response', 'next_response', 'resolution', 'answer'];
const ACTIONS = ['notify_supervisors', 'raise_priority', 'move_queue', 'tag'];
const ZONES = ['Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Singapore', 'Asia/Tokyo', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'UTC'];

// parseHours reads "09:00-12:00, 13:00-18:00" into intervals ("" = closed).
export function parseHours(text) {
  const out = [];
  for (const part of String(text || '').split(/[,;，]/)) {
    const p = part.trim();
    if (!p) continue;
    const m = p.match(/^(\d{1,2}:\d{2})\s*[-–~]\s*(\d{1,2}:\d{2})$/);
    if (!m) throw new Error(t('sla_admin.bad_hours', { text: p }));
    out.push({ start: m[1].padStart(5, '0'), end: m[2].padStart(5, '0') });
  }
  return out;
}

export function formatHours(ivs) {
  return (ivs || []).map((iv) => `${iv.start}-${iv.end}`).join(', ');
}

// parseDayList reads an import: the API's JSON (a list of dates or of
// {date, kind, name}, or {"days": [...]}) or lines "2026-10-01 [holiday|workday] [name]".
export function parseDayList(text) {
  const src = String(text || '').trim();
  if (!src) return [];
  if (src.startsWith('[') || src.startsWith('{')) {
    let data;
    try {
      data = JSON.parse(src);
    } catch {
      throw new Error(t('sla_admin.bad_import'));
    }
    const list = Array.isArray(data) ? data : data.days;
    if (!Array.isArray(list)) throw new Error(t('sla_admin.bad_import'));
    return list.map((d) => (typeof d === 'string' ? { date: d, kind: 'holiday' } : { date: d.date, kind: d.kind || 'holiday', name: d.name || '', hours: d.hours }));
  }
  return src.split(/\r?\n/).filter((l) => l.trim()).map((line) => {
    const m = line.trim().match(/^(\d{4}-\d{2}-\d{2})(?:\s+(holiday|workday))?(?:\s+(.*))?$/);
    if (!m) throw new Error(t('sla_admin.bad_line', { line: line.trim() }));
    return { date: m[1], kind: m[2] || 'holiday', name: (m[3] || '').trim() };
  });
}

// mergeDays replaces days by date and keeps the list sorted.
export function mergeDays(days, more) {
  const byDate = new Map(days.map((d) => [d.date, d]));
  for (const d of more) byDate.set(d.date, d);
  return [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date));
}

function splitList(text) {
  return String(text || '').split(/[,，]/).map((s) => s.trim()).filter(Boolean);
}

function minutes(seconds) {
  return seconds ? String(Math.round((seconds / 60) * 100) / 100) : '';
}

export class SlaAdmin {
  constructor({ api, toast }) {
    this.api = api;
    this.toast = toast;
    this.admin = false;
    this.el = null;
    this.queues = [];
    this.calendars = [];
    this.policies = [];
  }

  // build creates the header button and the panel once.
  build() {
    if (this.el) return;
    const anchor = document.getElementById('leaderboard-open');
    if (!anchor) return;
    const open = h('button', { id: 'sla-admin-open', type: 'button', class: 'button button-quiet', 'aria-controls': 'sla-admin', 'aria-expanded': 'false', hidden: true }, t('sla_admin.nav'));
    anchor.before(open);
    const panel = h('section', { id: 'sla-admin', class: 'sla-admin', role: 'dialog', 'aria-labelledby': 'sla-admin-title', hidden: true });
    document.body.append(panel);
    this.el = { open, panel };
    open.addEventListener('click', () => (panel.hidden ? this.openPanel() : this.closePanel()));
    panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.closePanel();
    });
  }

  start(agent) {
    this.build();
    this.admin = Boolean(agent && agent.role === 'admin');
    if (this.el) this.el.open.hidden = !this.admin;
  }

  stop() {
    this.admin = false;
    if (this.el) {
      this.el.open.hidden = true;
      this.closePanel();
    }
  }

  closePanel() {
    this.el.panel.hidden = true;
    this.el.open.setAttribute('aria-expanded', 'false');
  }

  async openPanel() {
    if (!this.admin) return;
    this.el.panel.hidden = false;
    this.el.open.setAttribute('aria-expanded', 'true');
    await this.reload();
  }

  async reload() {
    try {
      const [p, c, q] = await Promise.all([this.api.get('/sla/policies'), this.api.get('/sla/calendars'), this.api.get('/queues')]);
      this.policies = (p && p.items) || [];
      this.calendars = (c && c.items) || [];
      this.queues = (q && q.items) || [];
      this.renderLists();
    } catch (err) {
      this.el.panel.replaceChildren(this.header(), h('p', { class: 'empty' }, t('sla_admin.load_error', { error: err.message })));
    }
  }

  header() {
    return h('header', { class: 'leaderboard-header' },
      h('h2', { id: 'sla-admin-title' }, t('sla_admin.title')),
      h('button', { type: 'button', class: 'button button-quiet', on: { click: () => this.closePanel() } }, t('sla_admin.close')));
  }

  calendarName(id) {
    const c = this.calendars.find((x) => String(x.id) === String(id));
    return c ? c.name : '—';
  }

  renderLists() {
    const p = this.policies.map((x) => {
      const tg = x.targets || {};
      const summary = TARGETS.filter((k) => tg[`${k}_s`]).map((k) => `${t(`sla.kind.${k}`)} ${minutes(tg[`${k}_s`])} ${t('sla_admin.min')}`).join(' · ');
      return h('tr', { dataset: { policyId: x.id } },
        h('td', { class: 'num' }, String(x.position)),
        h('th', { scope: 'row' }, x.name),
        h('td', {}, x.enabled ? t('sla_admin.on') : t('sla_admin.off')),
        h('td', {}, summary),
        h('td', {}, x.business_hours ? this.calendarName(x.calendar_id) : t('sla_admin.always')),
        h('td', { class: 'num' }, String((x.escalations || []).length)),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', class: 'button button-secondary button-small policy-edit', on: { click: () => this.editPolicy(x) } }, t('sla_admin.edit')),
          h('button', { type: 'button', class: 'button button-quiet button-small policy-delete', on: { click: () => this.remove(`/sla/policies/${encodeURIComponent(x.id)}`, x.name) } }, t('sla_admin.delete'))));
    });
    const c = this.calendars.map((x) => {
      const days = x.days || [];
      return h('tr', { dataset: { calendarId: x.id } },
        h('th', { scope: 'row' }, x.name),
        h('td', {}, x.timezone),
        h('td', { class: 'num' }, String(days.filter((d) => d.kind === 'holiday').length)),
        h('td', { class: 'num' }, String(days.filter((d) => d.kind === 'workday').length)),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', class: 'button button-secondary button-small calendar-edit', on: { click: () => this.editCalendar(x) } }, t('sla_admin.edit')),
          h('button', { type: 'button', class: 'button button-quiet button-small calendar-delete', on: { click: () => this.remove(`/sla/calendars/${encodeURIComponent(x.id)}`, x.name) } }, t('sla_admin.delete'))));
    });
    const th = (...keys) => h('thead', {}, h('tr', {}, keys.map((k) => h('th', { scope: 'col' }, t(k)))));
    this.el.panel.replaceChildren(
      this.header(),
      h('section', { class: 'sla-admin-section' },
        h('div', { class: 'section-bar' }, h('h3', { class: 'section-title' }, t('sla_admin.policies')),
          h('button', { id: 'sla-policy-new', type: 'button', class: 'button button-primary button-small', on: { click: () => this.editPolicy(null) } }, t('sla_admin.new_policy'))),
        h('p', { class: 'muted' }, t('sla_admin.policies_hint')),
        h('table', { class: 'cockpit-table', id: 'sla-policies' },
          th('sla_admin.position', 'sla_admin.name', 'sla_admin.enabled', 'sla_admin.targets', 'sla_admin.hours', 'sla_admin.escalations', 'sla_admin.actions'),
          h('tbody', {}, p)),
        p.length ? null : h('p', { class: 'empty' }, t('sla_admin.no_policies'))),
      h('section', { class: 'sla-admin-section' },
        h('div', { class: 'section-bar' }, h('h3', { class: 'section-title' }, t('sla_admin.calendars')),
          h('button', { id: 'sla-calendar-new', type: 'button', class: 'button button-primary button-small', on: { click: () => this.editCalendar(null) } }, t('sla_admin.new_calendar'))),
        h('table', { class: 'cockpit-table', id: 'sla-calendars' },
          th('sla_admin.name', 'sla_admin.timezone', 'sla_admin.holidays', 'sla_admin.workdays', 'sla_admin.actions'),
          h('tbody', {}, c)),
        c.length ? null : h('p', { class: 'empty' }, t('sla_admin.no_calendars'))),
      h('div', { id: 'sla-admin-form' }),
    );
  }

  async remove(path, name) {
    if (!window.confirm(t('sla_admin.confirm_delete', { name }))) return;
    try {
      await this.api.request('DELETE', path);
      this.toast(t('sla_admin.deleted', { name }), 'info');
      await this.reload();
    } catch (err) {
      this.toast(err.message, 'error');
    }
  }

  showForm(form) {
    const slot = document.getElementById('sla-admin-form');
    slot.replaceChildren(form);
    form.scrollIntoView({ block: 'start' });
    const first = form.querySelector('input, select, textarea');
    if (first) first.focus();
  }

  // formError shows an API error with its fields, as text.
  formError(box, err) {
    const lines = [err.message || String(err)];
    for (const [k, v] of Object.entries(err.fields || {})) lines.push(`${k}: ${v}`);
    box.replaceChildren(...lines.map((l) => h('div', {}, l)));
    box.hidden = false;
  }

  field(label, input, hint) {
    return h('label', { class: 'form-field' }, h('span', {}, label), input, hint ? h('small', { class: 'muted' }, hint) : null);
  }

  editPolicy(p) {
    const x = p || { name: '', position: (this.policies.length + 1) * 10, enabled: true, match: {}, targets: {}, business_hours: false, warn_percent: 75, escalations: [] };
    const m = x.match || {};
    const tg = x.targets || {};
    const input = (id, value, attrs = {}) => h('input', { id, value: value ?? '', ...attrs });
    const name = input('sla-p-name', x.name, { type: 'text', required: true, maxlength: '200' });
    const position = input('sla-p-position', x.position, { type: 'number', step: '1' });
    const enabled = h('input', { id: 'sla-p-enabled', type: 'checkbox', checked: x.enabled });
    const targets = Object.fromEntries(TARGETS.map((k) => [k, input(`sla-p-${k}`, minutes(tg[`${k}_s`]), { type: 'number', min: '0', step: 'any' })]));
    const queues = h('select', { id: 'sla-p-queues', multiple: true, size: String(Math.min(5, Math.max(2, this.queues.length))) },
      this.queues.map((q) => h('option', { value: q.id, selected: (m.queue_ids || []).map(String).includes(String(q.id)) }, q.name)));
    const channels = CHANNELS.map((c) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: c, class: 'sla-p-channel', checked: (m.channels || []).includes(c) }), tOr(`channel.${c}`, c)));
    const minP = input('sla-p-minp', m.min_priority, { type: 'number', min: '0', max: '100' });
    const maxP = input('sla-p-maxp', m.max_priority, { type: 'number', min: '0', max: '100' });
    const tiers = input('sla-p-tiers', (m.tiers || []).join(', '), { type: 'text' });
    const segments = input('sla-p-segments', (m.segments || []).join(', '), { type: 'text' });
    const stages = input('sla-p-stages', (m.lifecycle_stages || []).join(', '), { type: 'text' });
    const bh = h('input', { id: 'sla-p-bh', type: 'checkbox', checked: x.business_hours });
    const cal = h('select', { id: 'sla-p-calendar' }, h('option', { value: '' }, '—'),
      this.calendars.map((c) => h('option', { value: c.id, selected: String(c.id) === String(x.calendar_id) }, c.name)));
    const warn = input('sla-p-warn', x.warn_percent || 75, { type: 'number', min: '1', max: '99' });
    const escList = h('ol', { class: 'escalation-list', id: 'sla-p-escalations' });
    const addEsc = (e) => escList.append(this.escalationRow(e || { on: 'breach', action: 'notify_supervisors' }));
    (x.escalations || []).forEach(addEsc);
    const errors = h('div', { class: 'form-error', role: 'alert', hidden: true });

    const form = h('form', { class: 'sla-form', id: 'sla-policy-form' },
      h('h3', { class: 'section-title' }, p ? t('sla_admin.edit_policy', { name: x.name }) : t('sla_admin.new_policy')),
      h('div', { class: 'form-grid' },
        this.field(t('sla_admin.name'), name), this.field(t('sla_admin.position'), position, t('sla_admin.position_hint')),
        h('label', { class: 'check' }, enabled, t('sla_admin.enabled'))),
      h('fieldset', {}, h('legend', {}, t('sla_admin.targets_min')),
        h('div', { class: 'form-grid' }, TARGETS.map((k) => this.field(t(`sla.kind.${k}`), targets[k]))),
        h('small', { class: 'muted' }, t('sla_admin.targets_hint'))),
      h('fieldset', {}, h('legend', {}, t('sla_admin.match')),
        h('small', { class: 'muted' }, t('sla_admin.match_hint')),
        h('div', { class: 'form-grid' },
          this.field(t('sla_admin.queues'), queues),
          h('div', { class: 'form-field' }, h('span', {}, t('sla_admin.channels')), h('div', { class: 'checks' }, channels)),
          this.field(t('sla_admin.min_priority'), minP), this.field(t('sla_admin.max_priority'), maxP),
          this.field(t('sla_admin.tiers'), tiers, t('sla_admin.comma')), this.field(t('sla_admin.segments'), segments, t('sla_admin.comma')),
          this.field(t('sla_admin.stages'), stages, t('sla_admin.comma')))),
      h('fieldset', {}, h('legend', {}, t('sla_admin.hours')),
        h('div', { class: 'form-grid' },
          h('label', { class: 'check' }, bh, t('sla_admin.business_hours')),
          this.field(t('sla_admin.calendar'), cal),
          this.field(t('sla_admin.warn_percent'), warn))),
      h('fieldset', {}, h('legend', {}, t('sla_admin.escalations')), escList,
        h('button', { type: 'button', id: 'sla-p-add-escalation', class: 'button button-secondary button-small', on: { click: () => addEsc() } }, t('sla_admin.add_escalation'))),
      errors,
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', id: 'sla-p-save', class: 'button button-primary' }, t('sla_admin.save')),
        h('button', { type: 'button', class: 'button button-quiet', on: { click: () => form.remove() } }, t('sla_admin.cancel'))));

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      errors.hidden = true;
      const num = (el) => (el.value === '' ? null : Number(el.value));
      const body = {
        name: name.value.trim(), position: Number(position.value) || 0, enabled: enabled.checked,
        match: {
          queue_ids: [...queues.selectedOptions].map((o) => o.value),
          channels: [...form.querySelectorAll('.sla-p-channel:checked')].map((c) => c.value),
          min_priority: num(minP), max_priority: num(maxP),
          tiers: splitList(tiers.value), segments: splitList(segments.value), lifecycle_stages: splitList(stages.value),
        },
        targets: Object.fromEntries(TARGETS.map((k) => [`${k}_s`, Math.round((Number(targets[k].value) || 0) * 60)])),
        business_hours: bh.checked, calendar_id: cal.value || null, warn_percent: Number(warn.value) || 75,
        escalations: [...escList.children].map((li) => li.readEscalation()),
      };
      if (!body.calendar_id) delete body.calendar_id;
      try {
        if (p) await this.api.request('PATCH', `/sla/policies/${encodeURIComponent(p.id)}`, body);
        else await this.api.post('/sla/policies', body);
        this.toast(t('sla_admin.saved', { name: body.name }), 'info');
        await this.reload();
      } catch (err) {
        this.formError(errors, err);
      }
    });
    this.showForm(form);
  }

  escalationRow(e) {
    const on = h('select', { class: 'esc-on', 'aria-label': t('sla_admin.esc_on') }, ['warning', 'breach'].map((v) => h('option', { value: v, selected: e.on === v }, t(`sla_admin.on_${v}`))));
    const kind = h('select', { class: 'esc-kind', 'aria-label': t('sla_admin.esc_kind') }, h('option', { value: '' }, t('sla_admin.all_clocks')),
      TARGETS.map((k) => h('option', { value: k, selected: (e.kinds || []).length === 1 && e.kinds[0] === k }, t(`sla.kind.${k}`))));
    const action = h('select', { class: 'esc-action', 'aria-label': t('sla_admin.esc_action') }, ACTIONS.map((a) => h('option', { value: a, selected: e.action === a }, t(`sla_admin.action_${a}`))));
    const prio = h('input', { class: 'esc-priority', type: 'number', min: '1', max: '100', value: e.priority || 50, 'aria-label': t('sla_admin.priority') });
    const queue = h('select', { class: 'esc-queue', 'aria-label': t('sla_admin.queue') }, this.queues.map((q) => h('option', { value: q.id, selected: String(q.id) === String(e.queue_id) }, q.name)));
    const tag = h('input', { class: 'esc-tag', type: 'text', maxlength: '50', value: e.tag || '', placeholder: 'sla-breached', 'aria-label': t('sla_admin.tag') });
    const sync = () => {
      prio.hidden = action.value !== 'raise_priority';
      queue.hidden = action.value !== 'move_queue';
      tag.hidden = action.value !== 'tag';
    };
    action.addEventListener('change', sync);
    sync();
    const li = h('li', { class: 'escalation-row' }, on, kind, action, prio, queue, tag,
      h('button', { type: 'button', class: 'button button-quiet button-small', 'aria-label': t('sla_admin.remove'), on: { click: () => li.remove() } }, '×'));
    li.readEscalation = () => {
      const out = { on: on.value, action: action.value };
      if (kind.value) out.kinds = [kind.value];
      if (action.value === 'raise_priority') out.priority = Number(prio.value) || 0;
      if (action.value === 'move_queue') out.queue_id = queue.value;
      if (action.value === 'tag') out.tag = tag.value.trim().toLowerCase();
      return out;
    };
    return li;
  }

  editCalendar(c) {
    const x = c || { name: '', timezone: 'Asia/Shanghai', weekly: Object.fromEntries(DAYS.slice(0, 5).map((d) => [d, [{ start: '09:00', end: '18:00' }]])), workday_hours: [], days: [] };
    let days = [...(x.days || [])];
    const name = h('input', { id: 'sla-c-name', type: 'text', value: x.name, required: true, maxlength: '200' });
    const zone = h('input', { id: 'sla-c-timezone', type: 'text', value: x.timezone, list: 'sla-zones', required: true });
    const zones = h('datalist', { id: 'sla-zones' }, ZONES.map((z) => h('option', { value: z })));
    const weekly = Object.fromEntries(DAYS.map((d) => [d, h('input', { id: `sla-c-${d}`, type: 'text', value: formatHours((x.weekly || {})[d]), placeholder: t('sla_admin.closed') })]));
    const workday = h('input', { id: 'sla-c-workday', type: 'text', value: formatHours(x.workday_hours), placeholder: t('sla_admin.as_monday') });
    const dayList = h('tbody', { id: 'sla-c-days' });
    const renderDays = () => {
      dayList.replaceChildren(...days.map((d) => h('tr', { dataset: { date: d.date } },
        h('td', { class: 'num' }, d.date), h('td', {}, t(`sla_admin.kind_${d.kind}`)), h('td', {}, d.name || ''),
        h('td', {}, h('button', { type: 'button', class: 'button button-quiet button-small', 'aria-label': t('sla_admin.remove'),
          on: { click: () => { days = days.filter((y) => y.date !== d.date); renderDays(); } } }, '×')))));
    };
    renderDays();
    const newDate = h('input', { id: 'sla-c-new-date', type: 'date' });
    const newKind = h('select', { id: 'sla-c-new-kind' }, ['holiday', 'workday'].map((k) => h('option', { value: k }, t(`sla_admin.kind_${k}`))));
    const newName = h('input', { id: 'sla-c-new-name', type: 'text', maxlength: '100', placeholder: t('sla_admin.day_name') });
    const importBox = h('textarea', { id: 'sla-c-import', rows: '4', placeholder: '2026-10-01 holiday 国庆节\n2026-10-10 workday 国庆节调休' });
    const errors = h('div', { class: 'form-error', role: 'alert', hidden: true });

    const form = h('form', { class: 'sla-form', id: 'sla-calendar-form' },
      h('h3', { class: 'section-title' }, c ? t('sla_admin.edit_calendar', { name: x.name }) : t('sla_admin.new_calendar')),
      zones,
      h('div', { class: 'form-grid' }, this.field(t('sla_admin.name'), name), this.field(t('sla_admin.timezone'), zone)),
      h('fieldset', {}, h('legend', {}, t('sla_admin.weekly')), h('small', { class: 'muted' }, t('sla_admin.weekly_hint')),
        h('div', { class: 'form-grid' }, DAYS.map((d) => this.field(t(`sla_admin.day_${d}`), weekly[d])), this.field(t('sla_admin.workday_hours'), workday))),
      h('fieldset', {}, h('legend', {}, t('sla_admin.days')),
        h('table', { class: 'cockpit-table' }, dayList),
        h('div', { class: 'tools-row' }, newDate, newKind, newName,
          h('button', { type: 'button', id: 'sla-c-add-day', class: 'button button-secondary button-small', on: { click: () => {
            if (!newDate.value) return;
            days = mergeDays(days, [{ date: newDate.value, kind: newKind.value, name: newName.value.trim() }]);
            newDate.value = '';
            newName.value = '';
            renderDays();
          } } }, t('sla_admin.add_day'))),
        this.field(t('sla_admin.import'), importBox, t('sla_admin.import_hint')),
        h('button', { type: 'button', id: 'sla-c-import-go', class: 'button button-secondary button-small', on: { click: () => {
          try {
            const more = parseDayList(importBox.value);
            days = mergeDays(days, more);
            importBox.value = '';
            renderDays();
            this.toast(t('sla_admin.imported', { n: more.length }), 'info');
          } catch (err) {
            this.formError(errors, err);
          }
        } } }, t('sla_admin.import_go'))),
      errors,
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', id: 'sla-c-save', class: 'button button-primary' }, t('sla_admin.save')),
        h('button', { type: 'button', class: 'button button-quiet', on: { click: () => form.remove() } }, t('sla_admin.cancel'))));

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      errors.hidden = true;
      let body;
      try {
        body = {
          name: name.value.trim(), timezone: zone.value.trim(),
          weekly: Object.fromEntries(DAYS.map((d) => [d, parseHours(weekly[d].value)])),
          workday_hours: parseHours(workday.value), days,
        };
      } catch (err) {
        this.formError(errors, err);
        return;
      }
      try {
        if (c) await this.api.request('PATCH', `/sla/calendars/${encodeURIComponent(c.id)}`, body);
        else await this.api.post('/sla/calendars', body);
        this.toast(t('sla_admin.saved', { name: body.name }), 'info');
        await this.reload();
      } catch (err) {
        this.formError(errors, err);
      }
    });
    this.showForm(form);
  }
}
