// Admins' survey definitions: the list, and an editor for a new or an
// existing survey (name, on/off, channels, queues, customer segments,
// delay after resolution, frequency cap, reply window, link lifetime,
// intro and questions in English and Simplified Chinese). Every value is inserted as text or as a form value.

import { h } from './dom.js';
import { t, tOr } from './i18n.js';
import { channelLabel } from './views.js';
import { SidePanel, errorText } from './panel.js';

const CHANNELS = ['webchat', 'sms', 'whatsapp', 'email', 'voice'];
const KINDS = ['csat', 'nps', 'ces', 'choice', 'text'];
const LOCALES = ['en', 'zh-CN'];

export class SurveyAdmin extends SidePanel {
  constructor({ api }) {
    super();
    this.api = api;
    this.el = null;
    this.admin = false;
    this.queues = [];
    this.segments = [];
    this.loading = Promise.resolve();
  }

  bind() {
    if (this.el) return;
    if (!this.bindPanel({ open: 'surveys-open', panel: 'surveys-panel', close: 'surveys-close', list: 'surveys-list', editor: 'survey-editor',
      status: 'surveys-status', add: 'surveys-new' })) return;
    this.el.add.addEventListener('click', () => this.edit(null));
  }

  start(agent) {
    this.bind();
    this.admin = Boolean(agent && agent.role === 'admin');
    this.showEntry(this.admin);
  }

  stop() {
    this.admin = false;
    this.showEntry(false);
  }

  async openPanel() {
    if (!this.admin) return;
    this.showPanel();
    this.el.editor.hidden = true;
    this.el.close.focus();
    this.loading = this.load();
    await this.loading;
  }

  async load() {
    let items = [];
    try {
      const [surveys, queues, segments] = await Promise.all([this.api.get('/surveys'), this.api.get('/queues'), this.api.get('/segments')]);
      items = (surveys && surveys.items) || [];
      this.queues = (queues && queues.items) || [];
      this.segments = (segments && segments.items) || [];
    } catch {
      this.setStatus(t('surveys.load_error'), 'error');
    }
    this.items = items;
    const queueName = (id) => (this.queues.find((q) => String(q.id) === String(id)) || { name: `#${id}` }).name;
    const segmentName = (id) => (this.segments.find((g) => String(g.id) === String(id)) || { name: `#${id}` }).name;
    this.el.list.replaceChildren(...items.map((s) => h('tr', { dataset: { surveyId: s.id } },
      h('td', null, s.name),
      h('td', null, s.enabled ? t('surveys.on') : t('surveys.off')),
      h('td', null, s.channels && s.channels.length ? s.channels.map(channelLabel).join(', ') : t('surveys.all')),
      h('td', null, s.queue_ids && s.queue_ids.length ? s.queue_ids.map(queueName).join(', ') : t('surveys.all')),
      h('td', null, s.segment_ids && s.segment_ids.length ? s.segment_ids.map(segmentName).join(', ') : t('surveys.all')),
      h('td', { class: 'survey-when' }, s.delay_s ? t('surveys.after_min', { n: String(Math.round(s.delay_s / 6) / 10) }) : t('surveys.at_resolution')),
      h('td', { class: 'num' }, String(s.cap_days || 0)),
      h('td', null, (s.questions || []).map((q) => tOr(`surveys.kind.${q.kind}`, q.kind)).join(' → ')),
      h('td', null, h('button', { type: 'button', class: 'button button-secondary survey-edit', on: { click: () => this.edit(s) } }, t('surveys.edit'))),
    )));
  }

  // edit shows the editor for survey s (null: a new one), once the queues
  // are known.
  async edit(s) {
    await this.loading;
    const sv = s || { name: '', enabled: true, channels: [], queue_ids: [], segment_ids: [], delay_s: 0, cap_days: 30, reply_window_min: 1440, link_ttl_hours: 168,
      intro: { en: '', 'zh-CN': '' }, questions: [{ key: 'score', kind: 'csat', text: { en: '', 'zh-CN': '' } }] };
    this.setStatus('');
    const field = (id, label, input) => [h('label', { for: id }, label), input];
    const name = h('input', { id: 'survey-name', value: sv.name, maxlength: '200', required: true });
    const enabled = h('input', { id: 'survey-enabled', type: 'checkbox', checked: sv.enabled });
    const channels = CHANNELS.map((c) => h('label', { class: 'toggle' },
      h('input', { type: 'checkbox', name: 'channel', value: c, checked: (sv.channels || []).includes(c) }), h('span', null, channelLabel(c))));
    const queues = this.queues.map((q) => h('label', { class: 'toggle' },
      h('input', { type: 'checkbox', name: 'queue', value: q.id, checked: (sv.queue_ids || []).map(String).includes(String(q.id)) }), h('span', null, q.name)));
    const segments = this.segments.length ? this.segments.map((g) => h('label', { class: 'toggle' },
      h('input', { type: 'checkbox', name: 'segment', value: g.id, checked: (sv.segment_ids || []).map(String).includes(String(g.id)) }), h('span', null, g.name)))
      : [h('span', { class: 'muted' }, t('surveys.no_segments'))];
    const num = (id, v, min, max) => h('input', { id, type: 'number', min: String(min), max: String(max), value: String(v) });
    const delay = num('survey-delay', (sv.delay_s || 0) / 60, 0, 43200);
    delay.step = 'any';
    const cap = num('survey-cap', sv.cap_days, 0, 3650);
    const windowMin = num('survey-window', sv.reply_window_min, 1, 10080);
    const ttl = num('survey-ttl', sv.link_ttl_hours, 1, 2160);
    const intro = LOCALES.map((l) => h('input', { id: `survey-intro-${l}`, value: (sv.intro || {})[l] || '', 'aria-label': t('surveys.intro_in', { lang: l }), placeholder: l }));
    const questions = h('ol', { id: 'survey-questions', class: 'survey-questions' });
    const addQuestion = (q) => questions.append(this.questionRow(q, questions));
    for (const q of sv.questions || []) addQuestion(q);
    const add = h('button', { type: 'button', id: 'survey-add-question', class: 'button button-secondary',
      on: { click: () => addQuestion({ key: `q${questions.children.length + 1}`, kind: 'text', text: { en: '', 'zh-CN': '' } }) } }, t('surveys.add_question'));
    const save = h('button', { type: 'submit', id: 'survey-save', class: 'button button-primary' }, t('surveys.save'));
    const cancel = h('button', { type: 'button', class: 'button button-quiet', on: { click: () => { this.el.editor.hidden = true; } } }, t('surveys.cancel'));
    const form = h('form', { class: 'survey-form', novalidate: true },
      h('h3', { class: 'section-title' }, s ? t('surveys.edit_title', { name: s.name }) : t('surveys.new')),
      h('div', { class: 'survey-grid' },
        ...field('survey-name', t('surveys.name'), name),
        ...field('survey-enabled', t('surveys.enabled'), enabled),
        h('span', null, t('surveys.channels')), h('div', { class: 'survey-checks', id: 'survey-channels' }, ...channels),
        h('span', null, t('surveys.queues')), h('div', { class: 'survey-checks', id: 'survey-queues' }, ...queues),
        h('span', null, t('surveys.segments')), h('div', { class: 'survey-checks', id: 'survey-segments' }, ...segments),
        ...field('survey-delay', t('surveys.delay_min'), delay),
        ...field('survey-cap', t('surveys.cap_days'), cap),
        ...field('survey-window', t('surveys.reply_window'), windowMin),
        ...field('survey-ttl', t('surveys.link_ttl'), ttl),
        h('span', null, t('surveys.intro')), h('div', { class: 'survey-locales' }, ...intro)),
      h('h4', null, t('surveys.questions')), questions, add,
      h('div', { class: 'survey-actions' }, save, cancel));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = {
        name: name.value.trim(), enabled: enabled.checked,
        channels: [...form.querySelectorAll('input[name=channel]:checked')].map((x) => x.value),
        queue_ids: [...form.querySelectorAll('input[name=queue]:checked')].map((x) => x.value),
        segment_ids: [...form.querySelectorAll('input[name=segment]:checked')].map((x) => x.value),
        delay_s: Math.round(Number(delay.value) * 60),
        cap_days: Number(cap.value), reply_window_min: Number(windowMin.value), link_ttl_hours: Number(ttl.value),
        intro: Object.fromEntries(LOCALES.map((l, i) => [l, intro[i].value.trim()])),
        questions: [...questions.children].map((li) => li.read()),
      };
      save.disabled = true;
      try {
        if (s) await this.api.request('PATCH', `/surveys/${encodeURIComponent(s.id)}`, body);
        else await this.api.post('/surveys', body);
        this.setStatus(t('surveys.saved'), 'ok');
        this.el.editor.hidden = true;
        await this.load();
      } catch (err) {
        this.setStatus(errorText(err), 'error');
      } finally {
        save.disabled = false;
      }
    });
    this.el.editor.replaceChildren(form);
    this.el.editor.hidden = false;
    name.focus();
  }

  // questionRow is one editable question; its read() returns the JSON.
  questionRow(q, list) {
    const key = h('input', { class: 'survey-q-key', value: q.key || '', maxlength: '40', 'aria-label': t('surveys.q_key') });
    const kind = h('select', { class: 'survey-q-kind', 'aria-label': t('surveys.q_kind') },
      ...KINDS.map((k) => h('option', { value: k, selected: k === q.kind }, tOr(`surveys.kind.${k}`, k))));
    const text = LOCALES.map((l) => h('input', { class: `survey-q-text survey-q-text-${l}`, value: (q.text || {})[l] || '', placeholder: l,
      'aria-label': t('surveys.q_text_in', { lang: l }) }));
    const choices = h('textarea', { class: 'survey-q-choices', rows: '3', placeholder: t('surveys.choices_hint'), 'aria-label': t('surveys.choices') });
    choices.value = (q.choices || []).map((c) => `${c.en || ''} | ${c['zh-CN'] || ''}`).join('\n');
    const showChoices = () => { choices.hidden = kind.value !== 'choice'; };
    kind.addEventListener('change', showChoices);
    showChoices();
    const li = h('li', { class: 'survey-question' }, key, kind, ...text, choices,
      h('button', { type: 'button', class: 'button button-quiet', on: { click: () => { if (list.children.length > 1) li.remove(); } } }, t('surveys.remove')));
    li.read = () => {
      const out = { key: key.value.trim(), kind: kind.value, text: Object.fromEntries(LOCALES.map((l, i) => [l, text[i].value.trim()])) };
      if (kind.value === 'choice') {
        out.choices = choices.value.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
          const [en, zh] = line.split('|').map((x) => (x || '').trim());
          return { en, 'zh-CN': zh || '' };
        });
      }
      return out;
    };
    return li;
  }
}
