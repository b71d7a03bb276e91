// Gamification in the console: the agent's level and points in the header,
// a toast for every "points" and "badge" frame, and the leaderboard panel
// (period switch, the agent's own progress, badges, quests and the
// leaderboard opt-out) with, for admins, the point rules editor (enabled,
// points and daily cap of each rule, saved with PUT /gamification/rules).
// Every string goes through i18n; text from the server
// (names, reasons, quest titles) is only ever set as text.

import { h } from './dom.js';
import { questItem } from './quests.js';
import { t, tOr, onLanguageChange } from './i18n.js';

const PERIODS = ['day', 'week', 'month', 'all'];
const PERIOD_KEY = 'parley.leaderboard.period';

export class Gamification {
  constructor({ api, toast }) {
    this.api = api;
    this.toast = toast;
    this.el = null;
    this.me = null; // achievements of the signed-in agent
    this.board = null;
    this.period = readPeriod();
    this.active = false;
    this.refreshTimer = 0;
    this.admin = false;
    this.rules = null; // settings from GET /gamification/rules while the editor is open
    onLanguageChange(() => this.render());
  }

  bind() {
    if (this.el) return;
    const $ = (id) => document.getElementById(id);
    this.el = {
      summary: $('game-summary'),
      level: $('game-level'),
      points: $('game-points'),
      open: $('leaderboard-open'),
      panel: $('leaderboard-panel'),
      close: $('leaderboard-close'),
      periods: $('leaderboard-periods'),
      list: $('leaderboard-list'),
      empty: $('leaderboard-empty'),
      mine: $('leaderboard-me'),
      progress: $('game-progress'),
      badges: $('game-badges'),
      quests: $('game-quests'),
      public: $('leaderboard-public'),
      rulesSection: $('game-rules-section'),
      rulesOpen: $('game-rules-open'),
      rulesForm: $('game-rules-form'),
      rulesList: $('game-rules-list'),
      rulesStatus: $('game-rules-status'),
    };
    if (!this.el.panel) return;
    this.el.open.addEventListener('click', () => (this.el.panel.hidden ? this.openPanel() : this.closePanel()));
    this.el.summary.addEventListener('click', () => this.openPanel());
    this.el.close.addEventListener('click', () => this.closePanel());
    this.el.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.closePanel();
    });
    this.el.public.addEventListener('change', () => this.setPublic(this.el.public.checked));
    if (this.el.rulesSection) {
      this.el.rulesOpen.addEventListener('click', () => (this.el.rulesForm.hidden ? this.openRules() : this.closeRules()));
      this.el.rulesForm.addEventListener('submit', (e) => {
        e.preventDefault();
        this.saveRules();
      });
    }
  }

  // start shows the rules editor's entry to admins (agent.role).
  start(agent) {
    this.bind();
    this.active = true;
    this.admin = Boolean(agent && agent.role === 'admin');
    if (this.el && this.el.rulesSection) this.el.rulesSection.hidden = !this.admin;
    this.refreshMe();
  }

  stop() {
    this.active = false;
    this.me = null;
    this.board = null;
    clearTimeout(this.refreshTimer);
    this.admin = false;
    this.rules = null;
    if (this.el && this.el.panel) {
      this.el.panel.hidden = true;
      this.el.summary.hidden = true;
    }
    if (this.el && this.el.rulesSection) {
      this.el.rulesSection.hidden = true;
      this.closeRules();
    }
  }

  async openRules() {
    if (!this.admin) return;
    this.el.rulesForm.hidden = false;
    this.el.rulesOpen.setAttribute('aria-expanded', 'true');
    this.setRulesStatus('', '');
    try {
      this.rules = await this.api.get('/gamification/rules');
    } catch {
      this.rules = null;
      this.setRulesStatus('error', t('game.rules.load_error'));
    }
    this.renderRules();
  }

  closeRules() {
    this.rules = null;
    this.el.rulesForm.hidden = true;
    this.el.rulesOpen.setAttribute('aria-expanded', 'false');
    this.el.rulesList.replaceChildren();
    this.setRulesStatus('', '');
  }

  setRulesStatus(state, text) {
    this.el.rulesStatus.dataset.state = state;
    this.el.rulesStatus.textContent = text;
  }

  renderRules() {
    if (!this.el || !this.el.rulesList) return;
    const rules = (this.rules && this.rules.rules) || [];
    this.el.rulesList.replaceChildren(
      ...rules.map((r) => {
        const name = tOr(`game.rule.${r.key}`, r.key);
        const enabled = h('input', { type: 'checkbox', class: 'rule-enabled', 'aria-label': t('game.rules.enabled_of', { rule: name }) });
        enabled.checked = Boolean(r.enabled);
        const points = h('input', {
          type: 'number', class: 'rule-points', step: '1', required: true, value: String(r.points),
          min: isPenalty(r.key) ? '-1000' : '0', max: isPenalty(r.key) ? '0' : '1000',
          'aria-label': t('game.rules.points_of', { rule: name }),
        });
        const cap = h('input', {
          type: 'number', class: 'rule-cap', step: '1', min: '0', max: '100000', required: true, value: String(r.daily_cap || 0),
          'aria-label': t('game.rules.daily_cap_of', { rule: name }),
        });
        return h('tr', { dataset: { rule: r.key } },
          h('th', { scope: 'row', class: 'rule-name' }, name),
          h('td', {}, enabled),
          h('td', { class: 'num' }, points),
          h('td', { class: 'num' }, cap));
      }),
    );
  }

  async saveRules() {
    if (!this.admin || !this.rules) return;
    const rules = [...this.el.rulesList.querySelectorAll('tr[data-rule]')].map((row) => ({
      key: row.dataset.rule,
      enabled: row.querySelector('.rule-enabled').checked,
      points: Math.trunc(Number(row.querySelector('.rule-points').value) || 0),
      daily_cap: Math.trunc(Number(row.querySelector('.rule-cap').value) || 0),
    }));
    this.setRulesStatus('working', t('game.rules.saving'));
    try {
      this.rules = await this.api.request('PUT', '/gamification/rules', { rules });
      this.renderRules();
      this.setRulesStatus('done', t('game.rules.saved'));
    } catch (err) {
      const fields = (err && err.fields) || {};
      const first = Object.keys(fields)[0];
      const detail = first ? `${tOr(`game.rule.${first.replace(/^rules\./, '')}`, first)}: ${fields[first]}` : (err && err.message) || '';
      this.setRulesStatus('error', t('game.rules.save_error', { detail }));
    }
  }

  // onFrame handles "points" and "badge" frames.
  onFrame(f) {
    if (f.type === 'points') {
      const delta = Number(f.delta) || 0;
      const reason = tOr(`game.rule.${f.rule}`, f.reason || '');
      const text = delta >= 0
        ? t('game.toast.gain', { n: delta, reason })
        : t('game.toast.loss', { n: -delta, reason });
      this.toast(text, delta >= 0 ? 'points' : 'info');
      if (this.me && Number.isFinite(Number(f.total))) {
        this.me.points = Number(f.total);
        this.renderSummary();
      }
    } else if (f.type === 'badge') {
      this.toast(t('game.toast.badge', { badge: tOr(`game.badge.${f.badge}`, f.name || f.badge || '') }), 'points');
    } else {
      return;
    }
    // The level, badges and board follow from the server; batch refreshes.
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshMe();
      if (!this.el.panel.hidden) this.refreshBoard();
    }, 400);
  }

  async refreshMe() {
    if (!this.active || !this.el || !this.el.panel) return;
    try {
      this.me = await this.api.get('/gamification/me');
    } catch {
      this.me = null; // gamification off or unreachable: hide the header summary
    }
    this.render();
  }

  async refreshBoard() {
    if (!this.active) return;
    const period = this.period;
    try {
      const board = await this.api.get(`/leaderboard?period=${encodeURIComponent(period)}`);
      if (period === this.period) this.board = board;
    } catch {
      this.board = { items: [], error: true };
    }
    this.renderBoard();
  }

  async setPublic(value) {
    try {
      this.me = await this.api.request('PUT', '/gamification/me', { public: value });
    } catch {
      this.toast(t('game.error'), 'error');
    }
    this.render();
    this.refreshBoard();
  }

  openPanel() {
    this.el.panel.hidden = false;
    this.el.open.setAttribute('aria-expanded', 'true');
    this.refreshBoard();
    this.refreshMe();
    this.el.close.focus();
  }

  closePanel() {
    this.el.panel.hidden = true;
    this.el.open.setAttribute('aria-expanded', 'false');
    this.el.open.focus();
  }

  render() {
    if (!this.el || !this.el.panel) return;
    this.renderSummary();
    this.renderPeriods();
    this.renderProgress();
    this.renderBoard();
    this.renderRules();
  }

  renderSummary() {
    const me = this.me;
    this.el.summary.hidden = !me;
    if (!me) return;
    this.el.level.textContent = t('game.level_short', { n: me.level.number, name: levelName(me.level) });
    this.el.points.textContent = t('game.points', { n: me.points });
    this.el.summary.title = me.next_level
      ? t('game.next_level', { n: me.points_to_next, level: levelName(me.next_level) })
      : t('game.max_level');
  }

  renderPeriods() {
    this.el.periods.replaceChildren(
      ...PERIODS.map((p) =>
        h(
          'button',
          {
            type: 'button',
            class: ['period-button', p === this.period && 'period-active'],
            dataset: { period: p },
            'aria-pressed': p === this.period ? 'true' : 'false',
            on: {
              click: () => {
                this.period = p;
                writePeriod(p);
                this.renderPeriods();
                this.refreshBoard();
              },
            },
          },
          t(`game.period.${p}`),
        ),
      ),
    );
  }

  renderBoard() {
    if (!this.el || !this.el.list) return;
    const board = this.board;
    const items = (board && board.items) || [];
    this.el.list.replaceChildren(
      ...items.map((s) =>
        h(
          'li',
          { class: ['leaderboard-row', s.me && 'leaderboard-me-row'], dataset: { agentId: s.agent_id, rank: s.rank } },
          h('span', { class: 'leaderboard-rank' }, String(s.rank)),
          h('span', { class: 'leaderboard-name' }, s.name),
          h('span', { class: 'leaderboard-level' }, levelName(s.level)),
          h('span', { class: 'leaderboard-points' }, t('game.points', { n: s.points })),
        ),
      ),
    );
    this.el.empty.hidden = items.length > 0;
    this.el.empty.textContent = board && board.error ? t('game.error') : t('game.empty');
    const me = board && board.me;
    if (me && !me.public) {
      this.el.mine.hidden = false;
      this.el.mine.textContent = t('game.private_rank', { rank: me.rank || '–', n: me.points });
    } else {
      this.el.mine.hidden = true;
    }
  }

  renderProgress() {
    const me = this.me;
    if (!me) {
      this.el.progress.replaceChildren();
      this.el.badges.replaceChildren();
      this.el.quests.replaceChildren();
      return;
    }
    this.el.public.checked = Boolean(me.public);
    const next = me.next_level;
    const span = next ? Math.max(1, next.points - me.level.points) : 1;
    const done = next ? Math.min(span, Math.max(0, me.points - me.level.points)) : 1;
    this.el.progress.replaceChildren(
      h('p', { class: 'game-progress-level' }, t('game.level', { n: me.level.number, name: levelName(me.level), points: me.points })),
      h('progress', { class: 'game-progress-bar', max: String(span), value: String(done), 'aria-label': t('game.level_progress') }),
      h('p', { class: 'muted' }, next ? t('game.next_level', { n: me.points_to_next, level: levelName(next) }) : t('game.max_level')),
    );
    this.el.badges.replaceChildren(
      ...(me.badges || []).map((b) =>
        h(
          'li',
          { class: ['badge', b.earned ? 'badge-earned' : 'badge-locked'], dataset: { badge: b.key }, title: tOr(`game.badge.${b.key}.hint`, b.description) },
          h('span', { class: 'badge-name' }, tOr(`game.badge.${b.key}`, b.name)),
          b.earned ? h('span', { class: 'badge-date muted' }, new Date(b.earned_at).toLocaleDateString()) : null,
        ),
      ),
    );
    const quests = me.quests || [];
    this.el.quests.replaceChildren(
      ...(quests.length === 0
        ? [h('li', { class: 'muted' }, t('game.no_quests'))]
        : quests.map((q) => questItem(q))),
    );
  }
}

// Penalties (their points are zero or negative).
function isPenalty(key) {
  return key === 'missed_offer' || key === 'sla_breach';
}

function levelName(level) {
  if (!level) return '';
  return tOr(`game.level.${level.key}`, level.name || '');
}

function readPeriod() {
  try {
    const p = localStorage.getItem(PERIOD_KEY);
    return PERIODS.includes(p) ? p : 'week';
  } catch {
    return 'week';
  }
}

function writePeriod(p) {
  try {
    localStorage.setItem(PERIOD_KEY, p);
  } catch {
    // Only the choice across reloads is lost.
  }
}
