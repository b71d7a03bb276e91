// REST client for /api/v1. Errors follow the wire contract:
// {"error":{"code","message","fields"}} with an HTTP status.

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status; // 0 for network failures
    this.code = code || (status === 0 ? 'network' : 'internal');
    this.fields = fields || {};
  }
}

export class Api {
  constructor({ base = '/api/v1', getToken = () => null } = {}) {
    this.base = base;
    this.getToken = getToken;
    this.clockSkewMs = 0; // server time minus client time, from the Date header
  }

  async request(method, path, body) {
    const headers = { Accept: 'application/json' };
    const token = this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers, credentials: 'same-origin' };
    if (body instanceof FormData) {
      init.body = body; // multipart: the browser sets the Content-Type
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(this.base + path, init);
    } catch (err) {
      throw new ApiError(0, 'network', err && err.message);
    }
    this.#noteServerTime(res);
    let data = null;
    const text = await res.text().catch(() => '');
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const e = (data && data.error) || {};
      throw new ApiError(res.status, e.code, e.message, e.fields);
    }
    return data;
  }

  #noteServerTime(res) {
    const date = Date.parse(res.headers.get('Date') || '');
    if (Number.isNaN(date)) return;
    const skew = date - Date.now();
    // The header has one-second resolution; ignore differences below that.
    this.clockSkewMs = Math.abs(skew) > 1500 ? skew : 0;
  }

  get(path) {
    return this.request('GET', path);
  }

  post(path, body) {
    return this.request('POST', path, body ?? {});
  }

  login(email, password) {
    return this.post('/auth/login', { email, password });
  }

  me() {
    return this.get('/auth/me');
  }

  logout() {
    return this.post('/auth/logout');
  }

  // messagesAfter returns every message with seq > afterSeq, following pages.
  async messagesAfter(id, afterSeq) {
    const all = [];
    let after = afterSeq;
    for (let page = 0; page < 50; page++) {
      const q = new URLSearchParams({ after_seq: String(after), limit: '200' });
      const data = await this.get(`/conversations/${encodeURIComponent(id)}/messages?${q}`);
      const items = (data && data.items) || [];
      all.push(...items);
      if (!data || !data.next_cursor || items.length === 0) break;
      after = Math.max(after, ...items.map((m) => Number(m.seq) || 0));
    }
    return all;
  }

  customer(id) {
    return this.get(`/customers/${encodeURIComponent(id)}`);
  }
}
