// The Customers page for supervisors and admins: segments (list with
// size, create and edit the filter, members, CSV export), CSV import
// (file, column mapping, progress while the job runs, the per-row report)
// and custom attribute definitions (edited by admins). Every value is
// inserted as text or as a form value.

import { h, append } from './dom.js';
import { t, tOr } from './i18n.js';
import { channelLabel } from './views.js';
import { STAGES } from './customer.js';
import { SidePanel, errorText } from './panel.js';

const CHANNELS = ['webchat', 'sms', 'whatsapp', 'email', 'voice', 'telegram', 'messenger', 'wechat'];
const TYPES = ['text', 'number', 'date', 'boolean', 'list'];
const FIELDS = ['name', 'email', 'phone', 'company', 'locale', 'timezone', 'lifecycle_stage', 'tags'];
const POLL_MS = 1000;

// csvHeader returns the first record of a CSV text (RFC 4180 quoting, a
// BOM dropped): the columns the mapping names.
export function csvHeader(text) {
  const s = text.replace(/^\uFEFF/, '');
  const out = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') break;
    else cell += c;
  }
  out.push(cell);
  return out;
}

// guessTarget proposes a target for a column from its name.
function guessTarget(column, defs) {
  const k = column.trim().toLowerCase().replace(/[\s-]+/g, '_');
  const alias = { 'e_mail': 'email', mail: 'email', mobile: 'phone', telephone: 'phone', tel: 'phone', stage: 'lifecycle_stage', language: 'locale', tz: 'timezone', full_name: 'name' };
  const f = alias[k] || k;
  if (FIELDS.includes(f)) return f;
  if (defs.some((d) => d.key === f)) return `attributes.${f}`;
  return 'ignore';
}

// fill replaces node's children (null children are left out).
const fill = (node, ...children) => {
  node.replaceChildren();
  append(node, children);
};
const list = (v) => v.split(',').map((x) => x.trim()).filter(Boolean);
const intOrNull = (v) => (v.trim() === '' ? null : Number(v));

export class CrmAdmin extends SidePanel {
  constructor({ api, sleep = (ms) => new Promise((r) => setTimeout(r, ms)) }) {
    super();
    this.api = api;
    this.sleep = sleep;
    this.el = null;
    this.role = '';
    this.defs = [];
  }

  bind() {
    if (this.el) return;
    this.bindPanel({ open: 'crm-admin-open', panel: 'crm-admin-panel', close: 'crm-admin-close', status: 'crm-admin-status',
      segments: 'crm-segments', imports: 'crm-import', attributes: 'crm-attributes' });
  }

  start(agent) {
    this.bind();
    this.role = (agent && agent.role) || '';
    this.showEntry(this.role === 'admin' || this.role === 'supervisor');
  }

  stop() {
    this.role = '';
    this.showEntry(false);
  }

  get admin() {
    return this.role === 'admin';
  }

  async openPanel() {
    if (!this.role) return;
    this.showPanel();
    this.el.close.focus();
    this.setStatus('');
    await this.load();
  }

  async load() {
    try {
      const [defs, segs] = await Promise.all([this.api.get('/customer-attributes'), this.api.get('/segments')]);
      this.defs = (defs && defs.items) || [];
      this.renderSegments((segs && segs.items) || []);
      this.renderImport();
      this.renderAttributes();
    } catch (err) {
      this.setStatus(errorText(err), 'error');
    }
  }

  // ------------------------------------------------------------ segments

  renderSegments(items) {
    const rows = items.map((s) => h('tr', { class: 'crm-segment', dataset: { segmentId: s.id } },
      h('td', null, s.name),
      h('td', { class: 'num segment-size' }, String(s.size ?? '')),
      h('td', { class: 'num' }, String(s.priority_boost || 0)),
      h('td', { class: 'crm-row-actions' },
        h('button', { type: 'button', class: 'button button-secondary button-small segment-edit', on: { click: () => this.editSegment(s) } }, t('crmadmin.edit')),
        h('button', { type: 'button', class: 'button button-secondary button-small segment-members', on: { click: () => this.showMembers(s) } }, t('crmadmin.members')),
        h('a', { class: 'button button-secondary button-small segment-export', href: `/api/v1/customers/export?segment=${encodeURIComponent(s.id)}`, download: `segment-${s.id}.csv` }, t('crmadmin.export_csv')),
        h('button', { type: 'button', class: 'button button-quiet button-small segment-delete', on: { click: () => this.remove(s.name, `/segments/${encodeURIComponent(s.id)}`) } }, t('crmadmin.delete')))));
    fill(this.el.segments,
      h('h3', { class: 'section-title' }, t('crmadmin.segments')),
      items.length
        ? h('div', { class: 'table-scroll' }, h('table', { class: 'inboxes-table crm-segments-table' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('crmadmin.col.name')), h('th', { scope: 'col', class: 'num' }, t('crmadmin.col.size')),
            h('th', { scope: 'col', class: 'num' }, t('crmadmin.col.boost')), h('th', { scope: 'col' }))),
          h('tbody', null, rows)))
        : h('p', { class: 'muted' }, t('crmadmin.no_segments')),
      h('button', { type: 'button', id: 'crm-segment-new', class: 'button button-secondary', on: { click: () => this.editSegment(null) } }, t('crmadmin.new_segment')),
      h('div', { id: 'crm-segment-editor', class: 'crm-admin-editor', hidden: true }),
      h('div', { id: 'crm-segment-members', class: 'crm-admin-editor', hidden: true }));
  }

  editSegment(seg) {
    const box = this.el.segments.querySelector('#crm-segment-editor');
    this.el.segments.querySelector('#crm-segment-members').hidden = true;
    const f = (seg && seg.filter) || {};
    const input = (id, value, attrs = {}) => h('input', { id, value: value ?? '', ...attrs });
    const name = input('segment-name', seg ? seg.name : '', { maxlength: '100', required: true });
    const boost = input('segment-boost', seg ? seg.priority_boost : 0, { type: 'number', min: '0', max: '100' });
    const checks = (group, values, chosen, label) => h('div', { class: 'survey-checks', id: `segment-${group}` },
      values.map((v) => h('label', { class: 'toggle' }, h('input', { type: 'checkbox', name: group, value: v, checked: (chosen || []).includes(v) }), h('span', null, label(v)))));
    const stages = checks('stages', STAGES, f.lifecycle_stages, (s) => tOr(`stage.${s}`, s));
    const channels = checks('channels', CHANNELS, f.channels, channelLabel);
    const tags = input('segment-tags', (f.tags || []).join(', '), { placeholder: t('crmadmin.tags_hint') });
    const attrs = h('textarea', { id: 'segment-attributes', rows: '2', placeholder: t('crmadmin.attributes_hint') });
    attrs.value = Object.entries(f.attributes || {}).map(([k, v]) => `${k}=${v}`).join('\n');
    const num = (id, v, min, max) => input(id, v ?? '', { type: 'number', min: String(min), max: String(max) });
    const within = num('segment-within', f.contact_within_days, 0, 3650);
    const noContact = num('segment-no-contact', f.no_contact_days, 0, 3650);
    const csatMin = num('segment-csat-min', f.csat_at_least, 1, 5);
    const csatMax = num('segment-csat-max', f.csat_at_most, 1, 5);
    const npsMin = num('segment-nps-min', f.nps_at_least, 0, 10);
    const npsMax = num('segment-nps-max', f.nps_at_most, 0, 10);
    const error = h('p', { class: 'form-error segment-error', role: 'alert', hidden: true });
    const field = (id, label, node) => [h('label', { for: id }, label), node];
    const form = h('form', { class: 'survey-form segment-form', novalidate: true },
      h('h4', null, seg ? t('crmadmin.edit_segment', { name: seg.name }) : t('crmadmin.new_segment')),
      h('div', { class: 'survey-grid' },
        ...field('segment-name', t('crmadmin.col.name'), name),
        ...field('segment-boost', t('crmadmin.col.boost'), boost),
        h('span', null, t('crmadmin.stages')), stages,
        h('span', null, t('crmadmin.channels')), channels,
        ...field('segment-tags', t('crmadmin.tags'), tags),
        ...field('segment-attributes', t('crmadmin.attributes'), attrs),
        ...field('segment-within', t('crmadmin.contact_within'), within),
        ...field('segment-no-contact', t('crmadmin.no_contact'), noContact),
        h('span', null, t('crmadmin.csat')), h('div', { class: 'crm-range' }, csatMin, '–', csatMax),
        h('span', null, t('crmadmin.nps')), h('div', { class: 'crm-range' }, npsMin, '–', npsMax)),
      error,
      h('div', { class: 'survey-actions' },
        h('button', { type: 'submit', id: 'segment-save', class: 'button button-primary' }, t('crmadmin.save')),
        h('button', { type: 'button', class: 'button button-quiet', on: { click: () => { box.hidden = true; } } }, t('crmadmin.cancel'))));
    this.showEditor(box, form, error, name, t('crmadmin.segment_saved'), () => {
      const filter = {
        lifecycle_stages: [...form.querySelectorAll('input[name=stages]:checked')].map((x) => x.value),
        channels: [...form.querySelectorAll('input[name=channels]:checked')].map((x) => x.value),
        tags: list(tags.value),
        attributes: Object.fromEntries(attrs.value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
          const i = l.indexOf('=');
          return i < 0 ? [l, ''] : [l.slice(0, i).trim(), l.slice(i + 1).trim()];
        })),
        contact_within_days: Number(within.value) || 0,
        no_contact_days: Number(noContact.value) || 0,
        csat_at_least: intOrNull(csatMin.value), csat_at_most: intOrNull(csatMax.value),
        nps_at_least: intOrNull(npsMin.value), nps_at_most: intOrNull(npsMax.value),
      };
      const body = { name: name.value.trim(), priority_boost: Number(boost.value) || 0, filter };
      return seg ? this.api.request('PUT', `/segments/${encodeURIComponent(seg.id)}`, body) : this.api.post('/segments', body);
    });
  }

  // showEditor shows form in box, focused on focus: on submit save() runs;
  // success closes the form and reloads the page, a refusal shows the
  // server's message and fields in error.
  showEditor(box, form, error, focus, savedText, save) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await save();
        box.hidden = true;
        this.setStatus(savedText, 'ok');
        await this.load();
      } catch (err) {
        error.textContent = errorText(err);
        error.hidden = false;
      }
    });
    box.replaceChildren(form);
    box.hidden = false;
    focus.focus();
  }

  // remove deletes what path names once the user confirms.
  async remove(name, path) {
    if (!window.confirm(t('crmadmin.delete_confirm', { name }))) return;
    try {
      await this.api.request('DELETE', path);
      await this.load();
    } catch (err) {
      this.setStatus(errorText(err), 'error');
    }
  }

  // showMembers pages through a segment's customers.
  async showMembers(seg) {
    const box = this.el.segments.querySelector('#crm-segment-members');
    this.el.segments.querySelector('#crm-segment-editor').hidden = true;
    const body = h('tbody');
    const more = h('button', { type: 'button', class: 'button button-secondary button-small members-more', hidden: true }, t('crmadmin.more'));
    const size = h('span', { class: 'members-size muted' });
    let cursor = '';
    const load = async () => {
      more.disabled = true;
      try {
        const q = new URLSearchParams({ limit: '50' });
        if (cursor) q.set('cursor', cursor);
        const page = await this.api.get(`/segments/${encodeURIComponent(seg.id)}/customers?${q}`);
        size.textContent = t('crmadmin.members_size', { n: page.size ?? 0 });
        for (const c of page.items || []) {
          body.append(h('tr', { class: 'segment-member', dataset: { customerId: c.id } },
            h('td', null, c.name || t('customer.unknown')), h('td', null, c.email || ''), h('td', null, c.phone || ''),
            h('td', null, tOr(`stage.${c.lifecycle_stage}`, c.lifecycle_stage || ''))));
        }
        cursor = page.next_cursor || '';
        more.hidden = !cursor;
      } catch (err) {
        this.setStatus(errorText(err), 'error');
      } finally {
        more.disabled = false;
      }
    };
    more.addEventListener('click', load);
    box.replaceChildren(h('h4', null, t('crmadmin.members_of', { name: seg.name }), ' ', size),
      h('div', { class: 'table-scroll' }, h('table', { class: 'inboxes-table' },
        h('thead', null, h('tr', null, ...['name', 'email', 'phone', 'stage'].map((c) => h('th', { scope: 'col' }, t(`crmadmin.col.${c}`))))), body)),
      more);
    box.hidden = false;
    await load();
  }

  // ------------------------------------------------------------ import

  renderImport() {
    const file = h('input', { id: 'import-file', type: 'file', accept: '.csv,text/csv' });
    const region = h('input', { id: 'import-region', maxlength: '2', size: '3', placeholder: 'US', autocapitalize: 'characters' });
    const mapping = h('div', { id: 'import-mapping', class: 'import-mapping' });
    const submit = h('button', { type: 'submit', id: 'import-start', class: 'button button-primary', disabled: true }, t('crmadmin.import_start'));
    const progress = h('div', { id: 'import-progress', class: 'import-progress', hidden: true });
    const report = h('div', { id: 'import-report', class: 'import-report', hidden: true });
    const targets = ['ignore', ...FIELDS, ...this.defs.map((d) => `attributes.${d.key}`)];
    let header = [];
    file.addEventListener('change', async () => {
      const f = file.files && file.files[0];
      header = f ? csvHeader(await f.slice(0, 64 * 1024).text()) : [];
      mapping.replaceChildren(...header.map((col, i) => h('label', { class: 'import-column', dataset: { column: col } },
        h('span', { class: 'import-column-name' }, col),
        h('select', { id: `import-map-${i}`, class: 'import-target', 'aria-label': t('crmadmin.map_column', { column: col }) },
          targets.map((tg) => h('option', { value: tg, selected: tg === guessTarget(col, this.defs) }, this.targetLabel(tg)))))));
      submit.disabled = header.length === 0;
    });
    const form = h('form', { class: 'import-form', id: 'import-form' },
      h('div', { class: 'survey-grid' },
        h('label', { for: 'import-file' }, t('crmadmin.import_file')), file,
        h('label', { for: 'import-region' }, t('crmadmin.import_region')), region),
      mapping, submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = file.files && file.files[0];
      if (!f) return;
      const data = new FormData();
      data.append('file', f);
      data.append('mapping', JSON.stringify(Object.fromEntries(header.map((col, i) => [col, mapping.querySelector(`#import-map-${i}`).value]))));
      data.append('region', region.value.trim());
      submit.disabled = true;
      report.hidden = true;
      try {
        let im = await this.api.request('POST', '/customers/import', data);
        this.showProgress(progress, im);
        while (im.status === 'queued' || im.status === 'running') {
          await this.sleep(POLL_MS);
          im = await this.api.get(`/customer-imports/${encodeURIComponent(im.id)}`);
          this.showProgress(progress, im);
        }
        this.showReport(report, im);
      } catch (err) {
        report.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
        report.hidden = false;
      } finally {
        submit.disabled = false;
      }
    });
    this.el.imports.replaceChildren(h('h3', { class: 'section-title' }, t('crmadmin.import')), form, progress, report);
  }

  // targetLabel names an import target: a profile field or an attribute.
  targetLabel(target) {
    const def = target.startsWith('attributes.') && this.defs.find((d) => `attributes.${d.key}` === target);
    return def ? t('crmadmin.target.attribute', { label: def.label || def.key }) : tOr(`crmadmin.target.${target}`, target);
  }

  showProgress(node, im) {
    const total = im.total_rows || 0;
    const done = im.processed || 0;
    fill(node,
      h('progress', { max: String(Math.max(total, 1)), value: String(done) }),
      h('span', { class: 'import-status', dataset: { status: im.status } }, t('crmadmin.import_progress', { status: tOr(`crmadmin.status.${im.status}`, im.status), done, total })));
    node.hidden = false;
  }

  showReport(node, im) {
    const errors = im.errors || [];
    fill(node,
      h('p', { class: 'import-summary', dataset: { status: im.status } },
        t('crmadmin.import_summary', { created: im.created || 0, updated: im.updated || 0, failed: im.failed || 0 })),
      im.error ? h('p', { class: 'form-error' }, im.error) : null,
      errors.length
        ? h('div', { class: 'table-scroll' }, h('table', { class: 'inboxes-table import-errors' },
          h('thead', null, h('tr', null, h('th', { scope: 'col', class: 'num' }, t('crmadmin.col.row')), h('th', { scope: 'col' }, t('crmadmin.col.field')), h('th', { scope: 'col' }, t('crmadmin.col.reason')))),
          h('tbody', null, errors.map((e) => h('tr', { class: 'import-error', dataset: { row: e.row } }, h('td', { class: 'num' }, String(e.row)), h('td', null, e.field), h('td', null, e.reason))))))
        : null);
    node.hidden = false;
  }

  // ------------------------------------------------------------ attributes

  renderAttributes() {
    const rows = this.defs.map((d) => h('tr', { class: 'crm-attribute', dataset: { key: d.key } },
      h('td', null, h('code', null, d.key)), h('td', null, d.label || ''), h('td', null, tOr(`crmadmin.type.${d.type}`, d.type)),
      h('td', null, (d.options || []).join(', ')),
      h('td', { class: 'crm-row-actions' }, this.admin
        ? [h('button', { type: 'button', class: 'button button-secondary button-small attribute-edit', on: { click: () => this.editAttribute(d) } }, t('crmadmin.edit')),
          h('button', { type: 'button', class: 'button button-quiet button-small attribute-delete', on: { click: () => this.remove(d.key, `/customer-attributes/${encodeURIComponent(d.key)}`) } }, t('crmadmin.delete'))]
        : null)));
    fill(this.el.attributes,
      h('h3', { class: 'section-title' }, t('crmadmin.attribute_defs')),
      this.defs.length
        ? h('table', { class: 'inboxes-table' },
          h('thead', null, h('tr', null, ...['key', 'label', 'type', 'options'].map((c) => h('th', { scope: 'col' }, t(`crmadmin.col.${c}`))), h('th', { scope: 'col' }))),
          h('tbody', null, rows))
        : h('p', { class: 'muted' }, t('crmadmin.no_attributes')),
      this.admin ? h('button', { type: 'button', id: 'crm-attribute-new', class: 'button button-secondary', on: { click: () => this.editAttribute(null) } }, t('crmadmin.new_attribute')) : null,
      h('div', { id: 'crm-attribute-editor', class: 'crm-admin-editor', hidden: true }));
  }

  editAttribute(def) {
    const box = this.el.attributes.querySelector('#crm-attribute-editor');
    const key = h('input', { id: 'attribute-key', value: def ? def.key : '', maxlength: '64', pattern: '[a-z][a-z0-9_]*', required: true, readonly: Boolean(def) });
    const label = h('input', { id: 'attribute-label', value: def ? def.label : '', maxlength: '100' });
    const type = h('select', { id: 'attribute-type' }, TYPES.map((ty) => h('option', { value: ty, selected: def ? def.type === ty : ty === 'text' }, tOr(`crmadmin.type.${ty}`, ty))));
    const options = h('input', { id: 'attribute-options', value: def ? (def.options || []).join(', ') : '', placeholder: t('crmadmin.options_hint') });
    const optionsLabel = h('label', { for: 'attribute-options' }, t('crmadmin.col.options'));
    const showOptions = () => { options.hidden = optionsLabel.hidden = type.value !== 'list'; };
    type.addEventListener('change', showOptions);
    showOptions();
    const error = h('p', { class: 'form-error attribute-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'survey-form attribute-form', novalidate: true },
      h('div', { class: 'survey-grid' },
        h('label', { for: 'attribute-key' }, t('crmadmin.col.key')), key,
        h('label', { for: 'attribute-label' }, t('crmadmin.col.label')), label,
        h('label', { for: 'attribute-type' }, t('crmadmin.col.type')), type,
        optionsLabel, options),
      error,
      h('div', { class: 'survey-actions' },
        h('button', { type: 'submit', id: 'attribute-save', class: 'button button-primary' }, t('crmadmin.save')),
        h('button', { type: 'button', class: 'button button-quiet', on: { click: () => { box.hidden = true; } } }, t('crmadmin.cancel'))));
    this.showEditor(box, form, error, def ? label : key, t('crmadmin.attribute_saved'), () => {
      const body = { label: label.value.trim(), type: type.value, options: type.value === 'list' ? list(options.value) : [] };
      return this.api.request('PUT', `/customer-attributes/${encodeURIComponent(key.value.trim())}`, body);
    });
  }
}
