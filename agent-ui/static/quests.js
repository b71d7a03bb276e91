// Quests: supervisors set time-boxed goals for an agent or a team (a
// count of a metric, optionally with a minimum mean CSAT) and watch their
// live progress; questItem also renders an agent's own quests. Titles are
// inserted as text.

import { h } from './dom.js';
import { t, tOr, formatDateTime } from './i18n.js';
import { SidePanel, errorText } from './panel.js';

const METRICS = ['resolved', 'points', 'first_response', 'fcr', 'csat_good', 'nps_promoter', 'prompt_accept', 'sla_met'];
const REFRESH_MS = 15000;

// questItem is one quest with its progress bar and, for a rated quest, its
// mean CSAT against the minimum.
export function questItem(q, ...extra) {
  const rated = q.min_csat !== undefined && q.min_csat !== null;
  return h(
    'li',
    { class: ['quest', q.completed && 'quest-done'], dataset: { questId: q.id } },
    h('span', { class: 'quest-title' }, q.title),
    h('progress', { max: String(q.target), value: String(Math.min(q.progress, q.target)), 'aria-label': q.title }),
    h('span', { class: 'quest-count muted' }, t('game.quest_progress', { progress: q.progress, target: q.target })),
    rated
      ? h('span', { class: ['quest-csat', q.csat !== undefined && q.csat !== null && q.csat >= q.min_csat ? 'quest-csat-ok' : 'quest-csat-low'] },
          t('quests.csat', { csat: q.csat === undefined || q.csat === null ? '—' : q.csat.toFixed(2), min: Number(q.min_csat).toFixed(1) }))
      : null,
    ...extra,
  );
}

// localInput formats a date for an <input type="datetime-local">.
function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export class Quests extends SidePanel {
  constructor({ api }) {
    super();
    this.api = api;
    this.el = null;
    this.allowed = false;
    this.timer = null;
    this.agents = [];
  }

  bind() {
    if (this.el) return;
    this.bindPanel({ open: 'quests-open', panel: 'quests-panel', close: 'quests-close', status: 'quests-status', form: 'quest-form', list: 'quests-list' });
  }

  start(agent) {
    this.bind();
    this.allowed = Boolean(agent && (agent.role === 'supervisor' || agent.role === 'admin'));
    this.showEntry(this.allowed);
  }

  stop() {
    this.allowed = false;
    this.showEntry(false);
  }

  async openPanel() {
    if (!this.allowed) return;
    this.showPanel();
    this.el.close.focus();
    try {
      const res = await this.api.get('/agents');
      this.agents = (res && res.items) || [];
    } catch {
      this.agents = [];
    }
    this.renderForm();
    await this.load();
    clearInterval(this.timer);
    this.timer = setInterval(() => (this.el.panel.hidden ? clearInterval(this.timer) : this.load()), REFRESH_MS);
  }

  closePanel() {
    clearInterval(this.timer);
    super.closePanel();
  }

  async load() {
    let items = [];
    try {
      const res = await this.api.get('/quests?active=true');
      items = (res && res.items) || [];
    } catch {
      this.setStatus(t('quests.load_error'), 'error');
    }
    this.el.list.replaceChildren(
      ...(items.length === 0
        ? [h('li', { class: 'muted' }, t('game.no_quests'))]
        : items.map((q) =>
            questItem(q,
              h('span', { class: 'quest-who muted' }, q.scope === 'team' ? t('quests.for_team', { team: q.team }) : t('quests.for_agent', { name: this.agentName(q.agent_id) }),
                ' · ', t('quests.until', { time: formatDateTime(q.ends_at) })),
              h('button', { type: 'button', class: 'button button-quiet quest-delete', on: { click: () => this.remove(q) } }, t('quests.delete'))))),
    );
  }

  agentName(id) {
    const a = this.agents.find((x) => String(x.id) === String(id));
    return a ? a.name : `#${id}`;
  }

  async remove(q) {
    try {
      await this.api.request('DELETE', `/quests/${encodeURIComponent(q.id)}`);
      this.setStatus(t('quests.deleted'), 'ok');
    } catch (err) {
      this.setStatus(errorText(err), 'error');
    }
    await this.load();
  }

  renderForm() {
    const teams = [...new Set(this.agents.flatMap((a) => a.teams || []))].sort();
    const title = h('input', { id: 'quest-title', maxlength: '200', required: true });
    const scope = h('select', { id: 'quest-scope' }, h('option', { value: 'team' }, t('quests.scope.team')), h('option', { value: 'agent' }, t('quests.scope.agent')));
    const team = h('select', { id: 'quest-team' }, ...teams.map((x) => h('option', { value: x }, x)));
    const agent = h('select', { id: 'quest-agent' }, ...this.agents.map((a) => h('option', { value: a.id }, a.name)));
    const metric = h('select', { id: 'quest-metric' }, ...METRICS.map((m) => h('option', { value: m }, m === 'points' ? t('quests.metric.points') : tOr(`game.rule.${m}`, m))));
    const target = h('input', { id: 'quest-target', type: 'number', min: '1', max: '1000000', value: '50' });
    const now = new Date();
    const starts = h('input', { id: 'quest-starts', type: 'datetime-local', value: localInput(now) });
    const ends = h('input', { id: 'quest-ends', type: 'datetime-local', value: localInput(new Date(now.getTime() + 7 * 86400000)) });
    const minCSAT = h('input', { id: 'quest-min-csat', type: 'number', min: '1', max: '5', step: '0.1', placeholder: t('quests.min_csat_none') });
    const teamRow = [h('label', { for: 'quest-team' }, t('quests.team')), team];
    const agentRow = [h('label', { for: 'quest-agent' }, t('quests.agent')), agent];
    const showScope = () => {
      for (const x of teamRow) x.hidden = scope.value !== 'team';
      for (const x of agentRow) x.hidden = scope.value !== 'agent';
    };
    scope.addEventListener('change', showScope);
    const submit = h('button', { type: 'submit', id: 'quest-create', class: 'button button-primary' }, t('quests.create'));
    this.el.form.replaceChildren(
      h('h3', { class: 'section-title' }, t('quests.new')),
      h('label', { for: 'quest-title' }, t('quests.quest_title')), title,
      h('label', { for: 'quest-scope' }, t('quests.scope')), scope,
      ...teamRow, ...agentRow,
      h('label', { for: 'quest-metric' }, t('quests.metric')), metric,
      h('label', { for: 'quest-target' }, t('quests.target')), target,
      h('label', { for: 'quest-min-csat' }, t('quests.min_csat')), minCSAT,
      h('label', { for: 'quest-starts' }, t('quests.starts')), starts,
      h('label', { for: 'quest-ends' }, t('quests.ends')), ends,
      h('div', null, submit),
    );
    showScope();
    this.el.form.onsubmit = async (ev) => {
      ev.preventDefault();
      const when = (input) => (input.value ? new Date(input.value).toISOString() : '');
      const body = { title: title.value.trim(), scope: scope.value, metric: metric.value, target: Number(target.value),
        starts_at: when(starts), ends_at: when(ends) };
      if (scope.value === 'team') body.team = team.value;
      else body.agent_id = agent.value;
      if (minCSAT.value !== '') body.min_csat = Number(minCSAT.value);
      if (!body.starts_at || !body.ends_at) {
        this.setStatus(t('quests.dates_required'), 'error');
        return;
      }
      submit.disabled = true;
      try {
        await this.api.post('/quests', body);
        this.setStatus(t('quests.created'), 'ok');
        title.value = '';
        await this.load();
      } catch (err) {
        this.setStatus(errorText(err), 'error');
      } finally {
        submit.disabled = false;
      }
    };
  }
}
