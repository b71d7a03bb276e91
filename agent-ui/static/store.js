// Conversation state kept by the console: messages by sequence number, the
// sync watermark used to detect gaps, and the agent's unacknowledged sends.

export class Thread {
  constructor(conversation, customer) {
    this.conversation = { ...conversation };
    delete this.conversation.messages;
    this.customer = customer || null;
    this.bySeq = new Map(); // seq -> message
    this.pending = new Map(); // client_msg_id -> local outgoing message
    this.synced = 0; // every seq <= synced is known (or known not to exist)
    this.unread = 0;
    this.typingUntil = 0;
    this.syncing = null; // in-flight resync promise
    this.assigned = true; // false when the server no longer lists it as ours
    this.addAll(conversation.messages || []);
  }

  get id() {
    return this.conversation.id;
  }

  update(conversation, customer) {
    const { messages, ...rest } = conversation;
    this.conversation = { ...this.conversation, ...rest };
    if (customer) this.customer = customer;
    this.addAll(messages || []);
  }

  get lastSeq() {
    let max = this.synced;
    for (const seq of this.bySeq.keys()) if (seq > max) max = seq;
    return max;
  }

  // needsSync reports whether the server knows of messages we lack.
  get needsSync() {
    const serverLast = Number(this.conversation.last_seq) || 0;
    return this.synced < this.lastSeq || this.synced < serverLast;
  }

  // add stores a message. It returns {added, gap}: added is false for a
  // duplicate (seq <= watermark or already stored; a stored copy is updated
  // in place, e.g. its delivery state), gap is true when messages before it
  // are missing and a resync with after_seq=synced is needed.
  add(message) {
    const seq = Number(message.seq);
    if (!Number.isFinite(seq) || seq <= 0) return { added: false, gap: false };
    if (message.client_msg_id) this.pending.delete(message.client_msg_id);
    const existing = this.bySeq.get(seq);
    if (existing) {
      Object.assign(existing, message);
      return { added: false, gap: false };
    }
    if (seq <= this.synced) return { added: false, gap: false };
    const gap = seq > this.synced + 1;
    this.bySeq.set(seq, { ...message, seq });
    this.#advance();
    return { added: true, gap };
  }

  addAll(messages) {
    let gap = false;
    let added = 0;
    for (const m of [...messages].sort((a, b) => a.seq - b.seq)) {
      const r = this.add(m);
      if (r.added) added++;
      gap = gap || r.gap;
    }
    return { added, gap: gap || this.synced < this.lastSeq };
  }

  // markSynced records that every seq <= upTo is accounted for (after an
  // after_seq fetch returned messages up to upTo).
  markSynced(upTo) {
    this.synced = Math.max(this.synced, Number(upTo) || 0);
    this.#advance();
  }

  // markAllSynced is called when an after_seq fetch found nothing new: the
  // remaining holes are sequence numbers of events that are not messages.
  markAllSynced() {
    this.markSynced(Math.max(this.lastSeq, Number(this.conversation.last_seq) || 0));
  }

  #advance() {
    while (this.bySeq.has(this.synced + 1)) this.synced++;
  }

  addPending(local) {
    this.pending.set(local.client_msg_id, local);
  }

  // ack turns a pending send into a stored message.
  ack(clientMsgId, messageId, seq) {
    const p = this.pending.get(clientMsgId);
    if (!p) return null;
    this.pending.delete(clientMsgId);
    const message = {
      id: messageId,
      conversation_id: this.id,
      seq,
      direction: 'out',
      private: p.private,
      sender: p.sender,
      channel: this.conversation.channel,
      body: p.body,
      attachments: [],
      delivery: p.private ? '' : 'queued',
      client_msg_id: clientMsgId,
      created_at: p.created_at,
    };
    return this.add(message);
  }

  findMessage(id) {
    for (const m of this.bySeq.values()) if (String(m.id) === String(id)) return m;
    return null;
  }

  // messages returns stored messages in order followed by pending sends.
  messages() {
    const stored = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    const pending = [...this.pending.values()].sort((a, b) => a.createdMs - b.createdMs);
    return stored.concat(pending);
  }

  lastMessage() {
    const all = this.messages();
    return all.length ? all[all.length - 1] : null;
  }

  lastActivityMs() {
    const m = this.lastMessage();
    const t = Date.parse((m && m.created_at) || this.conversation.assigned_at || this.conversation.created_at || '');
    return Number.isNaN(t) ? 0 : t;
  }

  get isOpen() {
    const s = this.conversation.status;
    return this.assigned && s !== 'resolved' && s !== 'abandoned';
  }
}

// uuid returns crypto.randomUUID() where available (secure contexts) and an
// equivalent random version-4 UUID otherwise.
export function uuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
