// The customer panel's CRM controls: merge a duplicate suggestion, add a
// note, set the lifecycle stage, edit typed attributes, page through the
// history. Values from the server are always inserted as text (h()).

import { h } from './dom.js';
import { t, tOr, formatDateTime, getLanguage } from './i18n.js';

export const STAGES = ['lead', 'prospect', 'customer', 'loyal', 'at_risk', 'churned'];

// customerActions binds the panel's controls to the API for the customer
// shown. refresh reloads the customer; notify shows a toast (text, kind).
export function customerActions(api, customerId, { refresh, notify }) {
  const base = `/customers/${encodeURIComponent(customerId)}`;
  const fail = (err) => notify(t('toast.error', { message: (err && err.message) || t('customer.failed') }), 'error');
  return {
    async merge(from, button) {
      button.disabled = true;
      try {
        await api.post(`${base}/merge`, { from: String(from) });
        notify(t('customer.merged'));
        await refresh();
      } catch (err) {
        button.disabled = false;
        fail(err);
      }
    },
    async patch(body) {
      try {
        await api.request('PATCH', base, body);
        await refresh();
        return null;
      } catch (err) {
        if (err && err.status === 400) return err.fields || {};
        fail(err);
        return {};
      }
    },
    timeline(cursor) {
      const q = new URLSearchParams({ limit: '20' });
      if (cursor) q.set('cursor', cursor);
      return api.get(`${base}/timeline?${q}`);
    },
    async setConsent(channel, address, status, button) {
      button.disabled = true;
      try {
        await api.request('PUT', `${base}/consents`, { channel, address, status });
        notify(t('customer.consent.saved'));
        await refresh();
      } catch (err) {
        button.disabled = false;
        fail(err);
      }
    },
    async addNote(body, form) {
      const submit = form.querySelector('button[type="submit"]');
      submit.disabled = true;
      try {
        await api.post(`${base}/notes`, { body });
        form.reset();
        await refresh();
      } catch (err) {
        fail(err);
      } finally {
        submit.disabled = false;
      }
    },
  };
}

// mergeButton merges the duplicate d into the customer shown.
export function mergeButton(d, actions) {
  if (!actions) return null;
  const button = h('button', { type: 'button', class: 'button button-secondary button-small duplicate-merge', title: t('customer.merge_hint') }, t('customer.merge'));
  button.addEventListener('click', () => actions.merge(d.customer.id, button));
  return button;
}

// noteForm adds a note to the customer shown.
export function noteForm(actions) {
  if (!actions) return null;
  const input = h('textarea', { class: 'note-input', name: 'body', rows: '2', maxlength: '10000', required: true, placeholder: t('customer.note_placeholder'), 'aria-label': t('customer.note_placeholder') });
  const form = h(
    'form',
    { class: 'note-form' },
    input,
    h('button', { type: 'submit', class: 'button button-secondary button-small note-add' }, t('customer.note_add')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = input.value.trim();
    if (body) actions.addNote(body, form);
  });
  return form;
}

// stageControl sets the lifecycle stage by hand.
export function stageControl(customer, actions) {
  const select = h(
    'select',
    { class: 'stage-select', 'aria-label': t('customer.stage') },
    STAGES.map((st) => h('option', { value: st, selected: st === customer.lifecycle_stage }, tOr(`stage.${st}`, st))),
  );
  select.addEventListener('change', () => actions.patch({ lifecycle_stage: select.value }));
  return select;
}

function attributeInput(def, value) {
  const attrs = { class: 'crm-input', name: def.key, id: `crm-attr-${def.key}` };
  switch (def.type) {
    case 'number':
      return h('input', { ...attrs, type: 'number', step: 'any', value: value ?? '' });
    case 'date':
      return h('input', { ...attrs, type: 'date', value: value ?? '' });
    case 'boolean':
      return h(
        'select',
        attrs,
        h('option', { value: '' }, t('customer.none')),
        h('option', { value: 'true', selected: value === 'true' }, t('customer.yes')),
        h('option', { value: 'false', selected: value === 'false' }, t('customer.no')),
      );
    case 'list':
      return h('select', attrs, h('option', { value: '' }, t('customer.none')), (def.options || []).map((o) => h('option', { value: o, selected: value === o }, o)));
    default:
      return h('input', { ...attrs, type: 'text', maxlength: '2000', value: value ?? '' });
  }
}

// attributesForm edits the attributes an admin defined, each with the
// input of its type; a refused value shows the server's reason under it.
export function attributesForm(customer, actions) {
  const defs = customer.attribute_defs || [];
  if (!actions || defs.length === 0) return null;
  const current = customer.attributes || {};
  const rows = defs.map((def) => {
    const input = attributeInput(def, current[def.key]);
    const error = h('p', { class: 'crm-field-error', hidden: true, role: 'alert' });
    return { def, input, error, node: h('div', { class: 'crm-field', dataset: { key: def.key, type: def.type } }, h('label', { for: input.id }, def.label || def.key), input, error) };
  });
  const form = h('form', { class: 'crm-form attributes-form' }, rows.map((r) => r.node), h('button', { type: 'submit', class: 'button button-secondary button-small attributes-save' }, t('customer.attributes_save')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const changed = {};
    for (const { def, input } of rows) {
      const v = input.value.trim();
      if (v !== (current[def.key] ?? '')) changed[def.key] = v === '' ? null : v;
    }
    if (Object.keys(changed).length === 0) return;
    const fields = await actions.patch({ attributes: changed });
    for (const { def, error } of rows) {
      const msg = fields && fields[`attributes.${def.key}`];
      error.textContent = msg || '';
      error.hidden = !msg;
    }
  });
  return form;
}

function entryText(e) {
  switch (e.kind) {
    case 'message':
      return e.message.body || '';
    case 'note':
      return e.note.body || '';
    case 'lifecycle':
      return t('customer.history_stage', { from: tOr(`stage.${e.lifecycle.from}`, e.lifecycle.from), to: tOr(`stage.${e.lifecycle.to}`, e.lifecycle.to), reason: tOr(`customer.reason.${e.lifecycle.reason}`, e.lifecycle.reason) });
    case 'survey':
      return t('customer.history_survey', { kind: String(e.survey.kind || '').toUpperCase(), score: e.survey.score ?? '—' });
    case 'conversation':
      return t('customer.history_conversation', { channel: tOr(`channel.${e.conversation.channel}`, e.conversation.channel) });
    default:
      return '';
  }
}

// historySection pages through the customer's timeline (messages, notes,
// surveys, lifecycle changes), loaded when opened.
export function historySection(actions) {
  if (!actions) return null;
  const list = h('ol', { class: 'timeline-list' });
  const more = h('button', { type: 'button', class: 'button button-secondary button-small timeline-more', hidden: true }, t('customer.history_more'));
  let cursor = '';
  let loaded = false;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await actions.timeline(cursor);
      for (const e of page.items || []) {
        list.append(h('li', { class: ['timeline-item', `timeline-${e.kind}`], dataset: { kind: e.kind } }, h('span', { class: 'muted' }, formatDateTime(e.at)), ' ', entryText(e)));
      }
      cursor = page.next_cursor || '';
      more.hidden = !cursor;
    } catch {
      more.hidden = false;
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', load);
  const details = h('details', { class: 'panel-section customer-history' }, h('summary', null, t('customer.history')), list, more);
  details.addEventListener('toggle', () => {
    if (details.open && !loaded) {
      loaded = true;
      load();
    }
  });
  return details;
}

// localTime is the time now in an IANA time zone ('' when the browser does
// not know the zone).
export function localTime(tz, now = new Date()) {
  if (!tz) return '';
  try {
    return new Intl.DateTimeFormat(getLanguage(), { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(now);
  } catch {
    return '';
  }
}

// The local times shown keep up with the clock.
setInterval(() => {
  for (const node of document.querySelectorAll('.customer-local-time[data-tz]')) {
    const time = localTime(node.dataset.tz);
    if (time) node.textContent = t('customer.local_time', { time });
  }
}, 30000);

// timezoneText shows the customer's time zone, their local time and where
// the zone came from.
export function timezoneText(customer) {
  const tz = customer.timezone;
  if (!tz) return null;
  const time = localTime(tz);
  const source = customer.timezone_source ? tOr(`customer.source.${customer.timezone_source}`, '') : '';
  return h(
    'span',
    { class: 'customer-timezone' },
    h('span', { class: 'customer-tz-name' }, tz),
    time ? [' · ', h('span', { class: 'customer-local-time', dataset: { tz } }, t('customer.local_time', { time }))] : null,
    source ? h('span', { class: 'customer-source muted' }, ` (${source})`) : null,
  );
}

// regionText shows the region and whether it came from a phone number or
// the browser.
export function regionText(customer) {
  if (!customer.region) return null;
  const source = customer.region_source ? tOr(`customer.source.${customer.region_source}`, '') : '';
  return h('span', { class: 'customer-region' }, customer.region, source ? h('span', { class: 'customer-source muted' }, ` (${source})`) : null);
}

// customerChannels lists the channels of the customer's identities, once each.
export function customerChannels(customer) {
  return [...new Set((customer.identities || []).map((i) => i.channel))];
}

// preferredChannelControl chooses the preferred channel among the
// customer's channels.
export function preferredChannelControl(customer, actions, channelLabel) {
  const current = customer.preferred_channel || '';
  const channels = customerChannels(customer);
  if (current && !channels.includes(current)) channels.push(current);
  const select = h(
    'select',
    { class: 'preferred-channel-select', 'aria-label': t('customer.preferred_channel') },
    h('option', { value: '' }, t('customer.none')),
    channels.map((c) => h('option', { value: c, selected: c === current }, channelLabel(c))),
  );
  const error = h('p', { class: 'crm-field-error', hidden: true, role: 'alert' });
  select.addEventListener('change', async () => {
    const fields = await actions.patch({ preferred_channel: select.value });
    const msg = fields && (fields.preferred_channel || Object.values(fields)[0]);
    error.textContent = msg || '';
    error.hidden = !msg;
  });
  return [select, error];
}

const CONSENT_CHANNELS = ['sms', 'whatsapp'];

function consentSource(c) {
  const src = String(c.source || '');
  return src.startsWith('agent:') ? t('customer.consent.by_agent') : t('customer.consent.by_keyword', { keyword: src });
}

// consentSection shows, per SMS and WhatsApp address of the customer,
// whether they opted in or out (with what and when), and lets the agent
// record a change the customer asked for.
export function consentSection(customer, actions, channelLabel) {
  const consents = customer.consents || [];
  const rows = [];
  const seen = new Set();
  const add = (channel, address) => {
    const key = `${channel}|${address}`;
    if (seen.has(key)) return;
    seen.add(key);
    rows.push({ channel, address, consent: consents.find((c) => c.channel === channel && c.address === address) });
  };
  for (const id of customer.identities || []) if (CONSENT_CHANNELS.includes(id.channel)) add(id.channel, id.address);
  for (const c of consents) add(c.channel, c.address);
  if (rows.length === 0) return null;
  return h(
    'section',
    { class: 'panel-section customer-consents' },
    h('h4', null, t('customer.consents')),
    h(
      'ul',
      { class: 'consents' },
      rows.map(({ channel, address, consent }) => {
        const status = consent ? consent.status : '';
        let button = null;
        if (actions) {
          const next = status === 'opted_out' ? 'opted_in' : 'opted_out';
          button = h('button', { type: 'button', class: 'button button-secondary button-small consent-toggle', dataset: { status: next } },
            t(next === 'opted_in' ? 'customer.consent.opt_in' : 'customer.consent.opt_out'));
          button.addEventListener('click', () => actions.setConsent(channel, address, next, button));
        }
        return h(
          'li',
          { class: 'consent', dataset: { channel, address, status: status || 'unknown' } },
          h('span', { class: ['channel-badge', `channel-${channel}`] }, channelLabel(channel)),
          h('span', { class: 'consent-address' }, address),
          h('span', { class: ['consent-status', `consent-${status || 'unknown'}`] }, t(status ? `customer.consent.${status}` : 'customer.consent.unknown')),
          consent ? h('span', { class: 'consent-source muted' }, `${consentSource(consent)} · ${formatDateTime(consent.updated_at)}`) : null,
          button,
        );
      }),
    ),
  );
}
