// Supervisor cockpit: the live wallboard (queues, waiting conversations,
// agents) fed by /api/v1/supervisor/ws (a snapshot, then deltas), the
// interventions (presence, move/transfer, pause, monitor, whisper, barge)
// and the reports page with hand-drawn SVG charts and a CSV link. Shown to
// supervisors and admins only. Text from the server is only ever set as
// text.

import { h } from './dom.js';
import { t, tOr, onLanguageChange, formatTime, getLanguage } from './i18n.js';
import { ReconnectingSocket } from './socket.js';
import { readOnlyTags } from './convstatus.js';

const SVG = 'http://www.w3.org/2000/svg';
const MEDIA = ['voice', 'chat', 'email'];
const PRESENCES = ['available', 'away', 'offline'];
const TEAMS_REFRESH_MS = 30000;
const CHANNELS = ['webchat', 'sms', 'whatsapp', 'email', 'voice', 'telegram', 'messenger', 'wechat'];

function supervisorSocketURL(token) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/v1/supervisor/ws?token=${encodeURIComponent(token || '')}`;
}

// duration formats seconds as m:ss or h:mm:ss.
export function duration(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

function pct(v) {
  return v === null || v === undefined ? '—' : `${Number(v).toFixed(1)}%`;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// barChart draws one bar per point (value null: no bar) with a y axis from
// 0 to max, labels every few bars and an optional target line.
export function barChart({ title, points, max, unit, target }) {
  const W = 720;
  const H = 220;
  const left = 44;
  const bottom = 28;
  const top = 12;
  const plotH = H - bottom - top;
  const plotW = W - left - 8;
  const values = points.map((p) => p.value);
  const hi = max || Math.max(1, ...values.filter((v) => v !== null && v !== undefined));
  const y = (v) => top + plotH - (plotH * Math.min(v, hi)) / hi;
  const bw = plotW / Math.max(points.length, 1);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart', 'aria-label': title });
  root.appendChild(svg('title', {}, title));
  for (const frac of [0, 0.5, 1]) {
    const v = hi * frac;
    root.appendChild(svg('line', { x1: left, x2: W - 8, y1: y(v), y2: y(v), class: 'chart-grid' }));
    root.appendChild(svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'chart-label' }, unit === '%' ? `${Math.round(v)}%` : String(Math.round(v))));
  }
  const every = Math.max(1, Math.ceil(points.length / 12));
  points.forEach((p, i) => {
    const x = left + i * bw;
    if (p.value !== null && p.value !== undefined) {
      const bar = svg('rect', { x: x + bw * 0.15, y: y(p.value), width: Math.max(1, bw * 0.7), height: Math.max(0, top + plotH - y(p.value)), class: 'bar' });
      bar.appendChild(svg('title', {}, `${p.label}: ${unit === '%' ? pct(p.value) : Number(p.value).toFixed(1)}`));
      root.appendChild(bar);
    }
    if (i % every === 0) {
      root.appendChild(svg('text', { x: x + bw / 2, y: H - 8, 'text-anchor': 'middle', class: 'chart-label' }, p.label));
    }
  });
  if (target) {
    root.appendChild(svg('line', { x1: left, x2: W - 8, y1: y(target), y2: y(target), class: 'chart-target' }));
  }
  root.appendChild(svg('line', { x1: left, x2: left, y1: top, y2: top + plotH, class: 'chart-axis' }));
  root.appendChild(svg('line', { x1: left, x2: W - 8, y1: top + plotH, y2: top + plotH, class: 'chart-axis' }));
  return root;
}

// VOICE_COACH are the supervisor's voice interventions (POST /conversations/{id}/voice/{mode}).
const VOICE_COACH = ['listen', 'whisper', 'barge'];

export class Cockpit {
  constructor({ api, getToken, toast }) {
    this.api = api;
    this.getToken = getToken;
    this.toast = toast || (() => {});
    this.el = null;
    this.agent = null;
    this.socket = null;
    this.queues = new Map(); // id -> view
    this.agents = new Map();
    this.waiting = [];
    this.atRisk = new Map(); // "conversation:clock" -> sla frame (warning or breached)
    this.monitoring = null; // { id, conversation, messages: [] }
    this.tick = 0;
    this.skewMs = 0;
    this.teams = null; // today's team standings: { items } or { error: true }
    this.teamsTimer = 0;
    onLanguageChange(() => {
      if (this.el && this.agent) this.renderAll();
    });
  }

  bind() {
    if (this.el) return;
    const $ = (id) => document.getElementById(id);
    this.el = {
      openWallboard: $('wallboard-open'),
      openReports: $('reports-open'),
      cockpit: $('cockpit'),
      close: $('cockpit-close'),
      workspace: document.querySelector('.workspace'),
      wallboard: $('wallboard'),
      status: $('wallboard-status'),
      queues: $('wallboard-queues'),
      waiting: $('wallboard-waiting'),
      agents: $('wallboard-agents'),
      teams: $('wallboard-teams'),
      sla: $('wallboard-sla'),
      monitor: $('monitor-panel'),
      monitorTitle: $('monitor-title'),
      monitorThread: $('monitor-thread'),
      monitorInput: $('monitor-input'),
      whisper: $('monitor-whisper'),
      barge: $('monitor-barge'),
      monitorClose: $('monitor-close'),
      reports: $('reports'),
      form: $('reports-form'),
      from: $('reports-from'),
      to: $('reports-to'),
      queue: $('reports-queue'),
      channel: $('reports-channel'),
      team: $('reports-team'),
      tag: $('reports-tag'),
      segment: $('reports-segment'),
      group: $('reports-group'),
      figures: $('reports-figures'),
      chart: $('reports-chart'),
      csv: $('reports-csv'),
    };
    if (!this.el.cockpit) return;
    this.el.openWallboard.addEventListener('click', () => this.show('wallboard'));
    this.el.openReports.addEventListener('click', () => this.show('reports'));
    this.el.close.addEventListener('click', () => this.hide());
    this.el.monitorClose.addEventListener('click', () => this.unmonitor());
    this.el.whisper.addEventListener('click', () => this.sendToMonitored('whisper'));
    this.el.barge.addEventListener('click', () => this.sendToMonitored('barge'));
    this.el.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.loadReport();
    });
    const today = new Date();
    const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    this.el.from.value = iso(today);
    this.el.to.value = iso(today);
  }

  // start shows the cockpit's entries to supervisors and admins.
  start(agent) {
    this.bind();
    this.agent = agent;
    const allowed = agent && (agent.role === 'supervisor' || agent.role === 'admin');
    if (!this.el.cockpit) return;
    this.el.openWallboard.hidden = !allowed;
    this.el.openReports.hidden = !allowed;
  }

  stop() {
    this.hide();
    this.agent = null;
    if (this.el && this.el.cockpit) {
      this.el.openWallboard.hidden = true;
      this.el.openReports.hidden = true;
    }
  }

  show(view) {
    this.el.cockpit.hidden = false;
    if (this.el.workspace) this.el.workspace.hidden = true;
    this.el.wallboard.hidden = view !== 'wallboard';
    this.el.reports.hidden = view !== 'reports';
    this.el.openWallboard.setAttribute('aria-pressed', String(view === 'wallboard'));
    this.el.openReports.setAttribute('aria-pressed', String(view === 'reports'));
    if (view === 'wallboard') this.connect();
    if (view === 'reports') this.loadReport();
  }

  hide() {
    if (!this.el || !this.el.cockpit) return;
    this.el.cockpit.hidden = true;
    if (this.el.workspace) this.el.workspace.hidden = false;
    if (this.socket) this.socket.stop();
    this.socket = null;
    clearInterval(this.tick);
    this.tick = 0;
    clearInterval(this.teamsTimer);
    this.teamsTimer = 0;
  }

  connect() {
    if (this.socket) return;
    this.setStatus('connecting', t('wallboard.connecting'));
    this.socket = new ReconnectingSocket(() => supervisorSocketURL(this.getToken()), {
      onFrame: (f) => this.onFrame(f),
      onState: (s) => {
        if (s === 'waiting') this.setStatus('offline', t('wallboard.offline'));
      },
    });
    this.socket.start();
    clearInterval(this.tick);
    this.tick = setInterval(() => this.renderClocks(), 1000);
    clearInterval(this.teamsTimer);
    this.loadTeams();
    this.teamsTimer = setInterval(() => this.loadTeams(), TEAMS_REFRESH_MS);
  }

  // loadTeams fetches today's team standings (gamification).
  async loadTeams() {
    try {
      const data = await this.api.get('/leaderboard/teams?period=day');
      this.teams = { items: (data && data.items) || [] };
    } catch {
      this.teams = { items: [], error: true };
    }
    if (this.el && !this.el.cockpit.hidden) this.renderTeams();
  }

  setStatus(state, text) {
    this.el.status.dataset.state = state;
    this.el.status.textContent = text;
  }

  onFrame(f) {
    switch (f.type) {
      case 'snapshot':
        this.socket.resetBackoff();
        this.skewMs = Date.parse(f.at) - Date.now() || 0;
        this.queues = new Map((f.queues || []).map((q) => [q.id, q]));
        this.agents = new Map((f.agents || []).map((a) => [a.id, a]));
        this.waiting = f.waiting || [];
        this.setStatus('live', t('wallboard.live'));
        this.renderAll();
        break;
      case 'delta':
        for (const q of f.queues || []) this.queues.set(q.id, q);
        for (const a of f.agents || []) this.agents.set(a.id, a);
        for (const id of f.removed_queues || []) this.queues.delete(id);
        for (const id of f.removed_agents || []) this.agents.delete(id);
        if (f.waiting) this.waiting = f.waiting;
        if ((f.queues || []).length || (f.removed_queues || []).length) this.renderQueues();
        if ((f.agents || []).length || (f.removed_agents || []).length) this.renderAgents();
        if (f.waiting || (f.queues || []).length) this.renderWaiting();
        break;
      case 'monitoring':
        this.monitoring = { id: f.conversation_id, conversation: f.conversation, messages: (f.conversation && f.conversation.messages) || [] };
        this.renderMonitor();
        break;
      case 'unmonitored':
        if (this.monitoring && this.monitoring.id === f.conversation_id) this.monitoring = null;
        this.renderMonitor();
        break;
      case 'monitor_frame': {
        const inner = f.frame || {};
        if (!this.monitoring || inner.conversation_id !== this.monitoring.id) break;
        if (inner.type === 'message' && inner.message) {
          this.monitoring.messages.push(inner.message);
          this.renderMonitor();
        }
        break;
      }
      case 'sla': {
        const key = `${f.conversation_id}:${f.clock}`;
        if (f.state === 'warning' || f.state === 'breached') this.atRisk.set(key, f);
        else this.atRisk.delete(key);
        this.renderSLA();
        break;
      }
      case 'sla_escalation':
        this.toast(t('wallboard.sla_escalation', { id: f.conversation_id }), 'warning');
        break;
      case 'ack':
        this.setStatus('done', t('wallboard.done'));
        break;
      case 'error':
        this.setStatus('error', f.message || t('error.generic', { code: f.code }));
        break;
      default:
    }
  }

  now() {
    return Date.now() + this.skewMs;
  }

  // act sends an intervention through the socket (or REST), reporting the outcome.
  async act(fn) {
    this.setStatus('working', t('wallboard.working'));
    try {
      await fn();
      this.setStatus('done', t('wallboard.done'));
    } catch (err) {
      this.setStatus('error', (err && err.message) || t('error.generic', { code: err && err.code }));
    }
  }

  renderAll() {
    this.renderQueues();
    this.renderWaiting();
    this.renderAgents();
    this.renderSLA();
    this.renderTeams();
    this.renderMonitor();
  }

  renderTeams() {
    if (!this.el.teams) return;
    const teams = this.teams;
    const items = (teams && teams.items) || [];
    const rows = items.map((s) => h('tr', { dataset: { teamId: s.team_id, rank: s.rank } },
      h('td', { class: 'team-rank num' }, String(s.rank)),
      h('th', { scope: 'row', class: 'team-name' }, s.name),
      h('td', { class: 'team-points num' }, String(s.points))));
    if (rows.length === 0) {
      const text = !teams ? t('wallboard.teams_loading') : teams.error ? t('wallboard.teams_error') : t('wallboard.no_teams');
      rows.push(h('tr', {}, h('td', { class: 'empty', colspan: '3' }, text)));
    }
    this.el.teams.replaceChildren(...rows);
  }

  renderSLA() {
    const items = [...this.atRisk.values()].sort((a, b) => Date.parse(a.due_at) - Date.parse(b.due_at)).map((f) =>
      h('li', { class: 'waiting-item sla-item', dataset: { conversationId: f.conversation_id, state: f.state } },
        h('span', { class: 'waiting-customer' }, `#${f.conversation_id}`),
        h('span', { class: 'muted' }, tOr(`wallboard.clock.${f.clock}`, f.clock)),
        h('span', { class: 'sla-state', dataset: { state: f.state } }, t(`wallboard.sla_state.${f.state}`)),
        h('span', { class: 'waiting-wait' }, t('wallboard.sla_due', { time: formatTime(f.due_at) })),
        h('button', { type: 'button', class: 'button button-quiet monitor-go', on: { click: () => this.monitor(f.conversation_id) } }, t('wallboard.monitor'))));
    this.el.sla.replaceChildren(...items);
    if (items.length === 0) this.el.sla.appendChild(h('li', { class: 'empty' }, t('wallboard.no_risk')));
  }

  queueName(id) {
    const q = this.queues.get(id);
    return q ? q.name : id;
  }

  renderQueues() {
    const rows = [...this.queues.values()].sort((a, b) => a.name.localeCompare(b.name)).map((q) => {
      const sl = q.service_level_today;
      const target = (q.service_level_target && q.service_level_target.percent) || 0;
      const slState = sl === null || sl === undefined ? 'none' : sl >= target ? 'ok' : 'below';
      return h('tr', { dataset: { queueId: q.id, paused: q.paused ? 'true' : 'false' } },
        h('th', { scope: 'row', class: 'queue-name' }, q.name),
        h('td', { class: 'queue-waiting num' }, String(q.waiting)),
        h('td', { class: 'queue-longest num', dataset: { oldest: q.oldest_enqueued_at || '' } }, q.oldest_enqueued_at ? duration((this.now() - Date.parse(q.oldest_enqueued_at)) / 1000) : '—'),
        h('td', { class: 'queue-offered num' }, String(q.offered)),
        h('td', { class: 'queue-available num' }, String(q.agents_available)),
        h('td', { class: 'queue-busy num' }, String(q.agents_busy)),
        h('td', { class: 'queue-away num' }, String(q.agents_away)),
        h('td', { class: ['queue-sl', 'num'], dataset: { state: slState } },
          pct(sl), h('span', { class: 'muted' }, ` / ${target}% ≤ ${(q.service_level_target && q.service_level_target.seconds) || 0}s`)),
        h('td', { class: 'queue-abandon num' }, pct(q.abandon_rate_today)),
        h('td', {},
          h('button', {
            type: 'button', class: 'button button-quiet queue-pause',
            on: { click: () => this.act(() => this.api.post(`/queues/${encodeURIComponent(q.id)}/${q.paused ? 'unpause' : 'pause'}`)) },
          }, q.paused ? t('wallboard.unpause') : t('wallboard.pause'))));
    });
    this.el.queues.replaceChildren(...rows);
  }

  moveSelect() {
    const sel = h('select', { class: 'move-target', 'aria-label': t('wallboard.move_to') },
      h('option', { value: '' }, t('wallboard.move_to')));
    const agents = [...this.agents.values()].sort((a, b) => a.name.localeCompare(b.name));
    sel.appendChild(h('optgroup', { label: t('wallboard.agents') },
      agents.map((a) => h('option', { value: `agent:${a.id}` }, `${a.name} (${t(`presence.${a.status}`)})`))));
    const queues = [...this.queues.values()].sort((a, b) => a.name.localeCompare(b.name));
    sel.appendChild(h('optgroup', { label: t('wallboard.queues') }, queues.map((q) => h('option', { value: `queue:${q.id}` }, q.name))));
    return sel;
  }

  move(convId, target) {
    if (!target) return;
    const [kind, id] = target.split(':');
    const body = kind === 'agent' ? { agent_id: id } : { queue_id: id };
    this.act(() => this.api.post(`/conversations/${encodeURIComponent(convId)}/reassign`, body));
  }

  renderWaiting() {
    const items = this.waiting.map((c) => {
      const sel = this.moveSelect();
      return h('li', { class: 'waiting-item', dataset: { conversationId: c.id } },
        h('span', { class: 'waiting-customer' }, c.customer_name || t('wallboard.unknown_customer')),
        h('span', { class: 'waiting-meta muted' }, `${this.queueName(c.queue_id)} · ${tOr(`channel.${c.channel}`, c.channel)}`),
        readOnlyTags(c),
        h('span', { class: 'waiting-wait num', dataset: { since: c.enqueued_at } }, duration((this.now() - Date.parse(c.enqueued_at)) / 1000)),
        sel,
        h('button', { type: 'button', class: 'button button-secondary move-go', on: { click: () => this.move(c.id, sel.value) } }, t('wallboard.move')),
        h('button', { type: 'button', class: 'button button-quiet monitor-go', on: { click: () => this.monitor(c.id) } }, t('wallboard.monitor')));
    });
    this.el.waiting.replaceChildren(...items);
    if (items.length === 0) this.el.waiting.appendChild(h('li', { class: 'empty' }, t('wallboard.nobody_waiting')));
  }

  renderAgents() {
    const order = { available: 0, away: 1, offline: 2 };
    const list = [...this.agents.values()].sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3) || a.name.localeCompare(b.name));
    const rows = list.map((a) => {
      const presence = h('select', { class: 'agent-set-presence', 'aria-label': t('wallboard.set_presence') },
        PRESENCES.map((p) => h('option', { value: p, selected: p === a.status }, t(`presence.${p}`))));
      presence.value = a.status;
      presence.addEventListener('change', () => {
        const status = presence.value;
        this.act(() => this.api.post(`/agents/${encodeURIComponent(a.id)}/presence`, { status, reason: 'supervisor' }));
      });
      const load = MEDIA.filter((m) => (a.capacity && a.capacity[m]) || (a.load && a.load[m]))
        .map((m) => h('span', { class: 'load', dataset: { media: m } }, `${t(`media.${m}`)} ${(a.load && a.load[m]) || 0}/${(a.capacity && a.capacity[m]) || 0}`));
      const convs = (a.conversations || []).map((c) => h('span', { class: 'agent-conversation', dataset: { conversationId: c.id } },
        h('span', {}, c.customer_name || c.id),
        readOnlyTags(c),
        h('button', { type: 'button', class: 'link-button monitor-go', on: { click: () => this.monitor(c.id) } }, t('wallboard.monitor')),
        // Voice: join the call's conference from the supervisor's own endpoint.
        c.channel === 'voice'
          ? h('span', { class: 'voice-coach', role: 'group', 'aria-label': t('wallboard.voice_coach') },
            ...VOICE_COACH.map((mode) => h('button', {
              type: 'button', class: `link-button voice-${mode}`, dataset: { mode },
              on: { click: () => this.act(() => this.api.post(`/conversations/${encodeURIComponent(c.id)}/voice/${mode}`)) },
            }, t(`wallboard.voice_${mode}`))))
          : null,
        (() => {
          const sel = this.moveSelect();
          sel.addEventListener('change', () => this.move(c.id, sel.value));
          sel.classList.add('transfer-target');
          return sel;
        })()));
      const reason = a.reason ? tOr(`wallboard.reason.${a.reason}`, a.reason) : '';
      return h('tr', { dataset: { agentId: a.id } },
        h('th', { scope: 'row', class: 'agent-name-cell' }, a.name),
        h('td', {}, h('span', { class: 'agent-status', dataset: { status: a.status } }, t(`presence.${a.status}`))),
        h('td', { class: 'agent-since num', dataset: { since: a.since || '' } }, a.since ? duration((this.now() - Date.parse(a.since)) / 1000) : '—'),
        h('td', { class: 'agent-reason' }, reason, a.missed_offers ? h('span', { class: 'muted' }, ` (${t('wallboard.misses', { n: a.missed_offers })})`) : null),
        h('td', { class: 'agent-load' }, load, MEDIA.some((m) => a.wrap_up && a.wrap_up[m]) ? h('span', { class: 'muted' }, ` ${t('wallboard.wrap_up')}`) : null),
        h('td', { class: 'agent-conversations' }, convs.length ? convs : '—'),
        h('td', {}, presence));
    });
    this.el.agents.replaceChildren(...rows);
  }

  // renderClocks updates the ticking cells only.
  renderClocks() {
    if (!this.el || this.el.cockpit.hidden) return;
    for (const cell of this.el.cockpit.querySelectorAll('[data-since], [data-oldest]')) {
      const at = cell.dataset.since || cell.dataset.oldest;
      if (at) cell.textContent = duration((this.now() - Date.parse(at)) / 1000);
    }
  }

  monitor(id) {
    if (this.monitoring && this.monitoring.id !== id) this.socket.send({ type: 'unmonitor', conversation_id: this.monitoring.id });
    this.socket.send({ type: 'monitor', conversation_id: id });
  }

  unmonitor() {
    if (this.monitoring) this.socket.send({ type: 'unmonitor', conversation_id: this.monitoring.id });
    this.monitoring = null;
    this.renderMonitor();
  }

  sendToMonitored(type) {
    const body = this.el.monitorInput.value.trim();
    if (!this.monitoring || !body) return;
    this.setStatus('working', t('wallboard.working'));
    if (this.socket.send({ type, conversation_id: this.monitoring.id, body, client_msg_id: `${type}-${Date.now()}` })) {
      this.el.monitorInput.value = '';
    }
  }

  renderMonitor() {
    const m = this.monitoring;
    this.el.monitor.hidden = !m;
    if (!m) return;
    const c = m.conversation || {};
    this.el.monitorTitle.textContent = t('wallboard.monitoring', { name: c.customer_name || m.id });
    this.el.monitorThread.replaceChildren(...m.messages.map((msg) => h('li', {
      class: ['monitor-message', msg.direction === 'in' ? 'message-in' : 'message-out', msg.private ? 'message-private' : null],
      dataset: { seq: msg.seq },
    }, h('span', { class: 'monitor-sender muted' }, `${(msg.sender && msg.sender.name) || tOr(`wallboard.sender.${msg.sender && msg.sender.type}`, '')} · ${formatTime(msg.created_at)}`),
    h('span', { class: 'monitor-body' }, msg.body))));
    this.el.monitorThread.scrollTop = this.el.monitorThread.scrollHeight;
  }

  // ------------------------------------------------------------ reports

  reportQuery(extra) {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    const day = (v, end) => {
      const [y, mo, d] = String(v || '').split('-').map(Number);
      if (!y) return null;
      return new Date(y, mo - 1, d + (end ? 1 : 0)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    };
    const q = new URLSearchParams();
    const from = day(this.el.from.value, false);
    const to = day(this.el.to.value || this.el.from.value, true);
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    q.set('tz', tz);
    if (this.el.queue.value) q.set('queue_id', this.el.queue.value);
    if (this.el.channel.value) q.set('channel', this.el.channel.value);
    if (this.el.team.value) q.set('team_id', this.el.team.value);
    if (this.el.tag.value) q.set('tag', this.el.tag.value);
    if (this.el.segment.value) q.set('segment_id', this.el.segment.value);
    q.set('group', this.el.group.value || 'hour');
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return q;
  }

  async fillReportFilters() {
    if (this.el.queue.options.length > 1) return;
    try {
      const data = await this.api.get('/queues');
      for (const q of (data && data.items) || []) this.el.queue.appendChild(h('option', { value: q.id }, q.name));
    } catch {
      // The filter stays "all queues".
    }
    if (this.el.channel.options.length <= 1) {
      for (const c of CHANNELS) this.el.channel.appendChild(h('option', { value: c }, tOr(`channel.${c}`, c)));
    }
    try {
      const teams = await this.api.get('/teams');
      for (const tm of (teams && teams.items) || []) this.el.team.appendChild(h('option', { value: tm.id }, tm.name));
    } catch {
      // The filter stays "all teams".
    }
    try {
      const tags = await this.api.get('/conversations/tags');
      for (const tg of (tags && tags.items) || []) this.el.tag.appendChild(h('option', { value: tg.tag }, tg.tag));
    } catch {
      // The filter stays "all tags".
    }
    try {
      const segments = await this.api.get('/segments');
      for (const sg of (segments && segments.items) || []) this.el.segment.appendChild(h('option', { value: sg.id }, sg.name));
    } catch {
      // The filter stays "all customers".
    }
  }

  async loadReport() {
    await this.fillReportFilters();
    const q = this.reportQuery();
    this.el.csv.setAttribute('href', `/api/v1/reports/summary?${this.reportQuery({ format: 'csv' })}`);
    this.el.figures.replaceChildren(h('p', { class: 'muted' }, t('reports.loading')));
    let rep;
    try {
      rep = await this.api.get(`/reports/summary?${q}`);
    } catch (err) {
      this.el.figures.replaceChildren(h('p', { class: 'form-error' }, (err && err.message) || t('error.generic', { code: err && err.code })));
      this.el.chart.replaceChildren();
      return;
    }
    this.renderReport(rep);
  }

  renderReport(rep) {
    const s = rep.summary || {};
    const fig = (key, format) => {
      const f = s[key] || {};
      const value = f.value === null || f.value === undefined ? '—' : format(f.value);
      return h('div', { class: 'figure', dataset: { figure: key }, title: f.definition || '' },
        h('span', { class: 'figure-label' }, t(`reports.${key}`)),
        h('span', { class: 'figure-value' }, value),
        h('span', { class: 'figure-note muted' }, f.note || this.countsText(key, f)));
    };
    const secs = (v) => duration(v);
    this.el.figures.replaceChildren(
      fig('service_level', pct), fig('asa', secs), fig('aht', secs), fig('abandon_rate', pct),
      fig('occupancy', pct), fig('slot_utilisation', pct), fig('offer_acceptance', pct), fig('fcr', pct),
      fig('sla_met', pct), fig('csat', pct), fig('nps', (v) => Number(v).toFixed(0)), fig('ces', (v) => Number(v).toFixed(2)));
    const series = rep.series || [];
    const hourly = (rep.filter && rep.filter.group) === 'hour';
    const label = (b) => {
      const d = new Date(b.from);
      return hourly ? String(d.getHours()).padStart(2, '0') : new Intl.DateTimeFormat(getLanguage(), { month: 'numeric', day: 'numeric' }).format(d);
    };
    const target = s.service_level && s.service_level.extra && s.service_level.extra.target && s.service_level.extra.target.percent;
    this.el.chart.replaceChildren(
      h('h3', { class: 'section-title' }, t('reports.chart_service_level')),
      barChart({ title: t('reports.chart_service_level'), points: series.map((b) => ({ label: label(b), value: b.service_level.value })), max: 100, unit: '%', target }),
      h('h3', { class: 'section-title' }, t('reports.chart_entered')),
      barChart({ title: t('reports.chart_entered'), points: series.map((b) => ({ label: label(b), value: (b.abandon_rate.counts && b.abandon_rate.counts.entered) || 0 })) }),
      h('h3', { class: 'section-title' }, t('reports.chart_asa')),
      barChart({ title: t('reports.chart_asa'), points: series.map((b) => ({ label: label(b), value: b.asa.value })), unit: 's' }));
  }

  countsText(key, f) {
    const c = f.counts || {};
    switch (key) {
      case 'service_level':
        return t('reports.counts.service_level', { within: c.answered_within || 0, answered: c.answered || 0, late: c.abandoned_after_target || 0 });
      case 'abandon_rate':
        return t('reports.counts.abandon_rate', { abandoned: c.abandoned || 0, entered: c.entered || 0, short: c.short_abandons || 0 });
      case 'offer_acceptance':
        return t('reports.counts.offers', { accepted: c.accepted || 0, offers: c.offers || 0, rejected: c.rejected || 0, timeout: c.timeout || 0 });
      case 'asa':
        return t('reports.counts.answered', { n: c.answered || 0 });
      case 'aht':
        return t('reports.counts.handled', { n: c.handled || 0 });
      default:
        return '';
    }
  }
}
