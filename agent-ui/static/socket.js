// ReconnectingSocket keeps one WebSocket open, reconnecting with exponential
// backoff (with jitter, capped) after it drops.

export class ReconnectingSocket {
  constructor(url, { onOpen, onFrame, onClose, onState, minDelayMs = 500, maxDelayMs = 10000 } = {}) {
    this.url = url; // string or function returning the URL for each attempt
    this.onOpen = onOpen || (() => {});
    this.onFrame = onFrame || (() => {});
    this.onClose = onClose || (() => {});
    this.onState = onState || (() => {});
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.state = 'idle'; // idle | connecting | open | waiting | stopped
    this.retryAt = 0;
    this.wakeUp = () => {
      if (this.state === 'waiting') this.reconnectNow();
    };
  }

  start() {
    if (this.state === 'connecting' || this.state === 'open') return;
    window.addEventListener('online', this.wakeUp);
    document.addEventListener('visibilitychange', this.wakeUp);
    this.#connect();
  }

  stop() {
    this.#setState('stopped');
    clearTimeout(this.timer);
    window.removeEventListener('online', this.wakeUp);
    document.removeEventListener('visibilitychange', this.wakeUp);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, 'bye');
    }
  }

  // reconnectNow skips the remaining backoff delay.
  reconnectNow() {
    if (this.state === 'stopped') return;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.close(1000, 'reconnect');
      return; // onclose schedules the next attempt
    }
    this.#connect();
  }

  // resetBackoff is called by the owner once a connection proved useful
  // (for example after the server's hello frame).
  resetBackoff() {
    this.attempt = 0;
  }

  get isOpen() {
    return this.state === 'open' && this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  #setState(state) {
    this.state = state;
    this.onState(state, this);
  }

  #connect() {
    if (this.state === 'stopped') return;
    this.#setState('connecting');
    let ws;
    try {
      ws = new WebSocket(typeof this.url === 'function' ? this.url() : this.url);
    } catch {
      this.#schedule(false, null);
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      opened = true;
      this.#setState('open');
      this.onOpen();
    });
    ws.addEventListener('message', (ev) => {
      if (this.ws !== ws) return;
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === 'string') this.onFrame(frame);
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.#schedule(opened, ev);
    });
  }

  #schedule(opened, ev) {
    if (this.state === 'stopped') return;
    const delay = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 20);
    const wait = Math.round(delay / 2 + (Math.random() * delay) / 2);
    this.retryAt = Date.now() + wait;
    this.#setState('waiting');
    this.timer = setTimeout(() => this.#connect(), wait);
    this.onClose({ opened, code: ev ? ev.code : 0, reason: ev ? ev.reason : '' });
  }
}

// agentSocketURL builds the agent WebSocket URL on this host.
export function agentSocketURL(token) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${scheme}//${location.host}/api/v1/agent/ws${q}`;
}
