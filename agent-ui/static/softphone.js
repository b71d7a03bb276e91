// The browser softphone: when the server has the Twilio Voice SDK
// configured, a panel in the console registers a Twilio.Device with an
// access token from /api/v1/agent/voice-token and lets the agent answer and
// hang up the calls Parley dials to their client identity. Caller ids are
// rendered as text.

import { h } from './dom.js';
import { t, onLanguageChange } from './i18n.js';


export class Softphone {
  constructor({ api, toast }) {
    this.api = api;
    this.toast = toast;
    this.device = null;
    this.call = null;
    this.started = false;
    this.status = h('p', { class: 'softphone-status', role: 'status', id: 'softphone-status' });
    this.answerBtn = h('button', { type: 'button', class: 'button button-primary', id: 'softphone-answer', hidden: true, on: { click: () => this.answer() } }, t('softphone.answer'));
    this.hangupBtn = h('button', { type: 'button', class: 'button', id: 'softphone-hangup', hidden: true, on: { click: () => this.hangup() } }, t('softphone.hangup'));
    this.takeBtn = h('button', { type: 'button', class: 'button button-quiet', id: 'softphone-take', hidden: true, on: { click: () => this.takeCalls() } }, t('softphone.take_calls'));
    this.el = h(
      'section',
      { class: 'softphone', id: 'softphone', hidden: true, 'aria-labelledby': 'softphone-title' },
      h('h2', { class: 'section-title', id: 'softphone-title' }, t('softphone.title')),
      this.status,
      h('div', { class: 'softphone-actions' }, this.answerBtn, this.hangupBtn, this.takeBtn),
    );
    const offers = document.getElementById('offers');
    if (offers) offers.before(this.el);
    this.statusKey = null; // [key, params] of the status shown, to translate it again
    onLanguageChange(() => this.relabel());
  }

  relabel() {
    this.el.querySelector('#softphone-title').textContent = t('softphone.title');
    this.answerBtn.textContent = t('softphone.answer');
    this.hangupBtn.textContent = t('softphone.hangup');
    this.takeBtn.textContent = t('softphone.take_calls');
    if (this.statusKey) this.status.textContent = t(...this.statusKey);
  }

  // start asks the server whether the softphone is configured and, if so,
  // shows the panel and registers the device.
  async start() {
    if (this.started) return;
    this.started = true;
    let cfg;
    try {
      cfg = await this.api.get('/agent/softphone');
    } catch {
      return;
    }
    if (!cfg || !cfg.enabled) return;
    this.el.hidden = false;
    this.takeBtn.hidden = Boolean(cfg.takes_calls);
    this.setStatus('softphone.loading');
    try {
      await loadScript(cfg.sdk_url);
      if (!window.Twilio || !window.Twilio.Device) throw new Error('Twilio.Device missing');
      const { token } = await this.api.post('/agent/voice-token');
      this.device = new window.Twilio.Device(token, { closeProtection: true });
      this.device.on('registered', () => this.setStatus('softphone.ready'));
      this.device.on('error', (err) => this.setStatus('softphone.error', { reason: (err && err.message) || 'error' }, 'error'));
      this.device.on('incoming', (call) => this.incoming(call));
      this.device.on('tokenWillExpire', () => this.renew());
      await this.device.register();
    } catch (err) {
      this.setStatus('softphone.error', { reason: (err && err.message) || 'error' }, 'error');
    }
  }

  stop() {
    if (this.device) this.device.destroy();
    this.device = null;
    this.call = null;
    this.started = false;
    this.el.hidden = true;
  }

  // setStatus shows t(key, params).
  setStatus(key, params = {}, kind = 'info') {
    this.statusKey = [key, params];
    this.status.textContent = t(key, params);
    this.status.dataset.kind = kind;
  }

  async renew() {
    try {
      const { token } = await this.api.post('/agent/voice-token');
      if (this.device) this.device.updateToken(token);
    } catch (err) {
      this.setStatus('softphone.error', { reason: err.message || 'token' }, 'error');
    }
  }

  async takeCalls() {
    try {
      await this.api.post('/agent/voice-token', { take_calls: true });
      this.takeBtn.hidden = true;
    } catch (err) {
      this.toast(err.message || 'error', 'error');
    }
  }

  incoming(call) {
    this.call = call;
    const from = String((call.parameters && call.parameters.From) || '');
    this.setStatus('softphone.incoming', { from });
    this.answerBtn.hidden = false;
    this.hangupBtn.hidden = false;
    const done = () => {
      if (this.call !== call) return;
      this.call = null;
      this.answerBtn.hidden = true;
      this.hangupBtn.hidden = true;
      this.setStatus('softphone.ready');
    };
    call.on('disconnect', done);
    call.on('cancel', done);
    call.on('reject', done);
  }

  answer() {
    if (!this.call) return;
    this.call.accept();
    this.answerBtn.hidden = true;
    this.setStatus('softphone.in_call');
  }

  hangup() {
    if (!this.call) return;
    if (this.call.status && this.call.status() === 'pending') this.call.reject();
    else this.call.disconnect();
  }
}

// loadScript adds the SDK's <script> once.
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.setAttribute('src', src);
    s.async = true;
    s.addEventListener('load', () => resolve());
    s.addEventListener('error', () => reject(new Error('the Twilio Voice SDK could not be loaded')));
    document.head.append(s);
  });
}

