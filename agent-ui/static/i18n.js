// Shared i18n for the agent console and the demo page.
//
// The tables between the i18n:begin and i18n:end markers must stay strict
// JSON: the Go tests parse them to check that every key used in the HTML and
// JavaScript exists in every language, and that the copy of the "widget.*"
// strings inside widget.js (a classic script that cannot import this module)
// matches this table.

export const LANGUAGES = [
  { code: 'en', label: 'English' },
  { code: 'zh-CN', label: '简体中文' },
];

const STRINGS = /* i18n:begin */ {
  "en": {
    "app.title": "Parley — Agent console",
    "app.brand": "Parley",
    "app.skip": "Skip to the reply box",
    "login.heading": "Sign in to the agent console",
    "login.subheading": "Handle conversations from every channel in one place.",
    "login.email": "Email",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.submitting": "Signing in…",
    "login.invalid": "Wrong email or password.",
    "login.required": "Enter your email and your password.",
    "login.session_expired": "Your session has ended. Please sign in again.",
    "error.network": "Cannot reach the server. Check your connection and try again.",
    "error.generic": "Something went wrong ({code}).",
    "header.presence": "Status",
    "header.language": "Language",
    "header.logout": "Sign out",
    "header.signed_in_as": "Signed in as {name}",
    "presence.available": "Available",
    "presence.away": "Away",
    "presence.offline": "Offline",
    "conn.connecting": "Connecting…",
    "conn.online": "Connected",
    "conn.waiting": "Disconnected — retrying in {s} s",
    "conn.offline": "Disconnected",
    "offers.heading": "Incoming offers",
    "offer.announce": "New conversation offered from {queue}: {customer}",
    "offer.queue": "Queue",
    "offer.countdown": "{s} s",
    "offer.countdown_label": "Time left to accept",
    "offer.expired": "Expired",
    "offer.accept": "Accept",
    "offer.reject": "Decline",
    "offer.accepting": "Accepting…",
    "offer.rejecting": "Declining…",
    "offer.no_messages": "No messages yet.",
    "offer.more_messages": "{n} earlier messages not shown",
    "offer.ended.timeout": "Offer timed out",
    "offer.ended.canceled": "Offer canceled — the customer left",
    "offer.ended.rescinded": "Offer withdrawn by the system",
    "offer.ended.accepted_elsewhere": "Accepted by another agent",
    "offer.ended.rejected": "You declined this offer",
    "offer.ended.accepted": "Accepted",
    "offer.ended.unknown": "Offer ended",
    "list.heading": "My conversations",
    "list.empty": "No conversations yet. Set your status to Available to receive offers.",
    "list.unread": "{n} unread",
    "list.resolved": "Resolved",
    "list.no_messages": "No messages yet",
    "thread.empty_title": "No conversation selected",
    "thread.empty_hint": "Accept an offer or pick a conversation on the left.",
    "thread.label": "Messages",
    "thread.loading": "Loading earlier messages…",
    "thread.typing": "{name} is typing…",
    "thread.resolved": "This conversation is resolved.",
    "thread.not_assigned": "This conversation is no longer assigned to you.",
    "thread.topic": "Topic: {topic}",
    "thread.started": "Started {time}",
    "status.queued": "Queued",
    "status.assigned": "Open",
    "status.resolved": "Resolved",
    "status.abandoned": "Abandoned",
    "msg.private": "Private note",
    "msg.system": "System",
    "msg.customer": "Customer",
    "msg.agent": "Agent",
    "msg.you": "You",
    "msg.pending": "Sending…",
    "msg.failed": "Not sent: {reason}",
    "msg.failed_timeout": "no answer from the server",
    "msg.retry": "Retry",
    "msg.attachment": "Attachment",
    "delivery.queued": "Queued",
    "delivery.sent": "Sent",
    "delivery.delivered": "Delivered",
    "delivery.failed": "Delivery failed",
    "reply.label": "Reply",
    "reply.placeholder": "Write a reply… (Enter to send, Shift+Enter for a new line)",
    "reply.placeholder_private": "Write an internal note — the customer will not see it",
    "reply.private": "Private note",
    "reply.send": "Send",
    "reply.add_note": "Add note",
    "reply.hint": "Enter to send · Shift+Enter for a new line",
    "reply.too_long": "This message is too long. Please shorten it.",
    "resolve.button": "Resolve",
    "resolve.disposition": "Outcome",
    "disposition.resolved": "Solved",
    "disposition.no_response": "No response",
    "disposition.spam": "Spam",
    "disposition.duplicate": "Duplicate",
    "customer.heading": "Customer",
    "customer.empty": "Customer details appear here when you open a conversation.",
    "customer.unknown": "Unknown customer",
    "customer.email": "Email",
    "customer.phone": "Phone",
    "customer.locale": "Language",
    "customer.since": "Customer since",
    "customer.stage": "Lifecycle stage",
    "customer.tags": "Tags",
    "customer.no_tags": "No tags",
    "customer.identities": "Channels",
    "customer.identity_since": "since {date}",
    "customer.attributes": "Attributes",
    "customer.past": "Past conversations",
    "customer.no_past": "No earlier conversations.",
    "customer.past_messages": "{n} messages",
    "customer.past_message_one": "1 message",
    "customer.none": "—",
    "stage.lead": "Lead",
    "stage.prospect": "Prospect",
    "stage.opportunity": "Opportunity",
    "stage.customer": "Customer",
    "stage.vip": "VIP",
    "stage.churned": "Churned",
    "channel.voice": "Voice",
    "channel.sms": "SMS",
    "channel.whatsapp": "WhatsApp",
    "channel.email": "Email",
    "channel.webchat": "Web chat",
    "channel.telegram": "Telegram",
    "channel.messenger": "Messenger",
    "channel.wechat": "WeChat",
    "toast.dismiss": "Dismiss",
    "toast.assigned": "New conversation with {customer}",
    "toast.error": "{message}",
    "game.leaderboard": "Leaderboard",
    "game.close": "Close",
    "game.period": "Period",
    "game.period.day": "Today",
    "game.period.week": "This week",
    "game.period.month": "This month",
    "game.period.all": "All time",
    "game.empty": "No points yet in this period.",
    "game.error": "The leaderboard is unavailable right now.",
    "game.points": "{n} pts",
    "game.level_short": "Lv {n} · {name}",
    "game.level": "Level {n} · {name} — {points} points",
    "game.level_progress": "Progress to the next level",
    "game.next_level": "{n} points to {level}",
    "game.max_level": "Top level reached",
    "game.my_progress": "My progress",
    "game.public": "Show me on the leaderboard",
    "game.private_rank": "You are hidden from others; you would rank {rank} with {n} pts.",
    "game.badges": "Badges",
    "game.quests": "Quests",
    "game.no_quests": "No active quests.",
    "game.quest_progress": "{progress} / {target}",
    "game.toast.gain": "+{n} points · {reason}",
    "game.toast.loss": "−{n} points · {reason}",
    "game.toast.badge": "Badge earned: {badge}",
    "game.rule.resolved": "Conversation resolved",
    "game.rule.first_response": "Fast first response",
    "game.rule.csat_good": "Great customer rating",
    "game.rule.nps_promoter": "Promoter score",
    "game.rule.fcr": "Solved on first contact",
    "game.rule.prompt_accept": "Offer accepted promptly",
    "game.rule.sla_met": "Resolved within SLA",
    "game.rule.missed_offer": "Missed offer",
    "game.rule.sla_breach": "SLA breached",
    "game.rule.reopen": "Conversation reopened",
    "game.level.rookie": "Rookie",
    "game.level.apprentice": "Apprentice",
    "game.level.pro": "Pro",
    "game.level.expert": "Expert",
    "game.level.master": "Master",
    "game.level.legend": "Legend",
    "game.level.grandmaster": "Grandmaster",
    "game.badge.first_resolution": "First resolution",
    "game.badge.first_resolution.hint": "Resolve your first conversation.",
    "game.badge.quick_draw": "Quick draw",
    "game.badge.quick_draw.hint": "10 first responses under a minute in one day.",
    "game.badge.on_the_ball": "On the ball",
    "game.badge.on_the_ball.hint": "Accept 25 offers promptly.",
    "game.badge.century": "Century",
    "game.badge.century.hint": "Resolve 100 conversations.",
    "game.badge.one_and_done": "One and done",
    "game.badge.one_and_done.hint": "25 first-contact resolutions.",
    "game.badge.five_star_50": "Five stars",
    "game.badge.five_star_50.hint": "50 five-star CSAT ratings.",
    "game.badge.clean_week": "Clean week",
    "game.badge.clean_week.hint": "A week with at least 10 resolutions and no missed offer or SLA breach.",
    "demo.title": "Acme Cloud — support",
    "demo.brand": "Acme Cloud",
    "demo.nav.label": "Main",
    "demo.nav.products": "Products",
    "demo.nav.pricing": "Pricing",
    "demo.nav.docs": "Docs",
    "demo.nav.status": "Status",
    "demo.nav.support": "Support",
    "demo.hero.eyebrow": "Support center",
    "demo.hero.heading": "How can we help?",
    "demo.hero.body": "Browse the guides below or chat with a support engineer — we usually reply within a few minutes.",
    "demo.search.label": "Search the help center",
    "demo.search.placeholder": "Search for “invoice”, “SSH keys”, “DNS”…",
    "demo.cards.heading": "Popular topics",
    "demo.card.billing.title": "Billing and invoices",
    "demo.card.billing.body": "Payment methods, invoices, VAT numbers and refunds.",
    "demo.card.servers.title": "Servers and networking",
    "demo.card.servers.body": "Create instances, attach volumes, configure firewalls and DNS.",
    "demo.card.account.title": "Account and security",
    "demo.card.account.body": "Two-factor authentication, API tokens, team members and roles.",
    "demo.contact.heading": "Talk to a human",
    "demo.contact.body": "Open the chat with the button in the bottom-right corner. Our team answers around the clock in English and Chinese.",
    "demo.contact.hours": "Average first reply: 2 minutes",
    "demo.footer": "© Acme Cloud, Inc. This is a demo page for Parley.",
    "demo.inbox": "Web chat inbox: {id}",
    "widget.launcher_open": "Chat with us",
    "widget.launcher_close": "Close chat",
    "widget.title": "Support",
    "widget.close": "Minimize chat",
    "widget.prechat_intro": "Tell us a little about yourself and we will connect you with our team.",
    "widget.name": "Your name",
    "widget.email": "Email (optional)",
    "widget.topic": "Topic",
    "widget.start": "Start chat",
    "widget.starting": "Starting…",
    "widget.required": "Please fill in this field.",
    "widget.invalid": "Please check this field.",
    "widget.input_label": "Message",
    "widget.placeholder": "Type a message…",
    "widget.send": "Send",
    "widget.queue": "You are number {position} in the queue, about {minutes} min",
    "widget.queue_no_eta": "You are number {position} in the queue",
    "widget.waiting": "Waiting for an agent…",
    "widget.joined": "{name} joined the chat",
    "widget.typing": "The agent is typing…",
    "widget.typing_named": "{name} is typing…",
    "widget.resolved": "This conversation is resolved — write again to start a new one.",
    "widget.connecting": "Connecting…",
    "widget.reconnecting": "Connection lost — reconnecting…",
    "widget.error": "Something went wrong. Please try again.",
    "widget.unavailable": "Chat is not available right now.",
    "widget.pending": "Sending…",
    "widget.failed": "Not sent — tap to retry",
    "widget.you": "You",
    "widget.agent": "Support",
    "widget.unread": "{n} new messages"
  },
  "zh-CN": {
    "app.title": "Parley — 坐席工作台",
    "app.brand": "Parley",
    "app.skip": "跳到回复框",
    "login.heading": "登录坐席工作台",
    "login.subheading": "在一个地方处理所有渠道的会话。",
    "login.email": "邮箱",
    "login.password": "密码",
    "login.submit": "登录",
    "login.submitting": "正在登录…",
    "login.invalid": "邮箱或密码错误。",
    "login.required": "请输入邮箱和密码。",
    "login.session_expired": "会话已结束，请重新登录。",
    "error.network": "无法连接服务器，请检查网络后重试。",
    "error.generic": "出现错误（{code}）。",
    "header.presence": "状态",
    "header.language": "语言",
    "header.logout": "退出登录",
    "header.signed_in_as": "当前登录：{name}",
    "presence.available": "在线",
    "presence.away": "离开",
    "presence.offline": "离线",
    "conn.connecting": "正在连接…",
    "conn.online": "已连接",
    "conn.waiting": "连接已断开，{s} 秒后重试",
    "conn.offline": "已断开",
    "offers.heading": "待接入请求",
    "offer.announce": "{queue} 有新的会话请求：{customer}",
    "offer.queue": "队列",
    "offer.countdown": "{s} 秒",
    "offer.countdown_label": "剩余接受时间",
    "offer.expired": "已过期",
    "offer.accept": "接受",
    "offer.reject": "拒绝",
    "offer.accepting": "正在接受…",
    "offer.rejecting": "正在拒绝…",
    "offer.no_messages": "暂无消息。",
    "offer.more_messages": "还有 {n} 条较早的消息未显示",
    "offer.ended.timeout": "请求已超时",
    "offer.ended.canceled": "请求已取消：客户已离开",
    "offer.ended.rescinded": "请求已被系统撤回",
    "offer.ended.accepted_elsewhere": "已被其他坐席接入",
    "offer.ended.rejected": "你已拒绝该请求",
    "offer.ended.accepted": "已接受",
    "offer.ended.unknown": "请求已结束",
    "list.heading": "我的会话",
    "list.empty": "暂无会话。将状态设为“在线”即可接收请求。",
    "list.unread": "{n} 条未读",
    "list.resolved": "已解决",
    "list.no_messages": "暂无消息",
    "thread.empty_title": "未选择会话",
    "thread.empty_hint": "接受一个请求，或在左侧选择一个会话。",
    "thread.label": "消息",
    "thread.loading": "正在加载较早的消息…",
    "thread.typing": "{name} 正在输入…",
    "thread.resolved": "该会话已解决。",
    "thread.not_assigned": "该会话已不再分配给你。",
    "thread.topic": "主题：{topic}",
    "thread.started": "开始于 {time}",
    "status.queued": "排队中",
    "status.assigned": "处理中",
    "status.resolved": "已解决",
    "status.abandoned": "已放弃",
    "msg.private": "内部备注",
    "msg.system": "系统",
    "msg.customer": "客户",
    "msg.agent": "坐席",
    "msg.you": "你",
    "msg.pending": "发送中…",
    "msg.failed": "发送失败：{reason}",
    "msg.failed_timeout": "服务器无响应",
    "msg.retry": "重试",
    "msg.attachment": "附件",
    "delivery.queued": "排队中",
    "delivery.sent": "已发送",
    "delivery.delivered": "已送达",
    "delivery.failed": "投递失败",
    "reply.label": "回复",
    "reply.placeholder": "输入回复…（Enter 发送，Shift+Enter 换行）",
    "reply.placeholder_private": "输入内部备注——客户看不到",
    "reply.private": "内部备注",
    "reply.send": "发送",
    "reply.add_note": "添加备注",
    "reply.hint": "Enter 发送 · Shift+Enter 换行",
    "reply.too_long": "消息过长，请缩短后再发送。",
    "resolve.button": "解决",
    "resolve.disposition": "处理结果",
    "disposition.resolved": "已解决",
    "disposition.no_response": "客户无回应",
    "disposition.spam": "垃圾信息",
    "disposition.duplicate": "重复会话",
    "customer.heading": "客户",
    "customer.empty": "打开会话后，这里会显示客户信息。",
    "customer.unknown": "未知客户",
    "customer.email": "邮箱",
    "customer.phone": "电话",
    "customer.locale": "语言",
    "customer.since": "成为客户",
    "customer.stage": "生命周期阶段",
    "customer.tags": "标签",
    "customer.no_tags": "无标签",
    "customer.identities": "渠道身份",
    "customer.identity_since": "自 {date}",
    "customer.attributes": "属性",
    "customer.past": "历史会话",
    "customer.no_past": "没有更早的会话。",
    "customer.past_messages": "{n} 条消息",
    "customer.past_message_one": "1 条消息",
    "customer.none": "—",
    "stage.lead": "线索",
    "stage.prospect": "潜在客户",
    "stage.opportunity": "商机",
    "stage.customer": "客户",
    "stage.vip": "VIP",
    "stage.churned": "已流失",
    "channel.voice": "语音",
    "channel.sms": "短信",
    "channel.whatsapp": "WhatsApp",
    "channel.email": "邮件",
    "channel.webchat": "网页聊天",
    "channel.telegram": "Telegram",
    "channel.messenger": "Messenger",
    "channel.wechat": "微信",
    "toast.dismiss": "关闭",
    "toast.assigned": "新会话：{customer}",
    "toast.error": "{message}",
    "game.leaderboard": "排行榜",
    "game.close": "关闭",
    "game.period": "时间范围",
    "game.period.day": "今天",
    "game.period.week": "本周",
    "game.period.month": "本月",
    "game.period.all": "全部",
    "game.empty": "这段时间还没有积分。",
    "game.error": "排行榜暂时不可用。",
    "game.points": "{n} 分",
    "game.level_short": "{n} 级 · {name}",
    "game.level": "{n} 级 · {name} — {points} 分",
    "game.level_progress": "升级进度",
    "game.next_level": "距离{level}还差 {n} 分",
    "game.max_level": "已达最高等级",
    "game.my_progress": "我的进度",
    "game.public": "在排行榜上显示我",
    "game.private_rank": "其他人看不到你；你的排名将是第 {rank} 名，{n} 分。",
    "game.badges": "徽章",
    "game.quests": "任务",
    "game.no_quests": "暂无进行中的任务。",
    "game.quest_progress": "{progress} / {target}",
    "game.toast.gain": "+{n} 分 · {reason}",
    "game.toast.loss": "−{n} 分 · {reason}",
    "game.toast.badge": "获得徽章：{badge}",
    "game.rule.resolved": "会话已解决",
    "game.rule.first_response": "快速首次回复",
    "game.rule.csat_good": "客户好评",
    "game.rule.nps_promoter": "推荐者评分",
    "game.rule.fcr": "首次联系即解决",
    "game.rule.prompt_accept": "及时接受分配",
    "game.rule.sla_met": "在 SLA 内解决",
    "game.rule.missed_offer": "错过分配",
    "game.rule.sla_breach": "违反 SLA",
    "game.rule.reopen": "会话被重新打开",
    "game.level.rookie": "新手",
    "game.level.apprentice": "学徒",
    "game.level.pro": "熟手",
    "game.level.expert": "专家",
    "game.level.master": "大师",
    "game.level.legend": "传奇",
    "game.level.grandmaster": "宗师",
    "game.badge.first_resolution": "首次解决",
    "game.badge.first_resolution.hint": "解决你的第一个会话。",
    "game.badge.quick_draw": "快枪手",
    "game.badge.quick_draw.hint": "一天内 10 次在一分钟内首次回复。",
    "game.badge.on_the_ball": "反应敏捷",
    "game.badge.on_the_ball.hint": "及时接受 25 次分配。",
    "game.badge.century": "百战百胜",
    "game.badge.century.hint": "解决 100 个会话。",
    "game.badge.one_and_done": "一次搞定",
    "game.badge.one_and_done.hint": "25 次首次联系即解决。",
    "game.badge.five_star_50": "五星服务",
    "game.badge.five_star_50.hint": "获得 50 个五星满意度评分。",
    "game.badge.clean_week": "完美一周",
    "game.badge.clean_week.hint": "一周内至少解决 10 个会话，且没有错过分配或违反 SLA。",
    "demo.title": "Acme Cloud — 客户支持",
    "demo.brand": "Acme Cloud",
    "demo.nav.label": "主导航",
    "demo.nav.products": "产品",
    "demo.nav.pricing": "价格",
    "demo.nav.docs": "文档",
    "demo.nav.status": "服务状态",
    "demo.nav.support": "支持",
    "demo.hero.eyebrow": "帮助中心",
    "demo.hero.heading": "需要什么帮助？",
    "demo.hero.body": "浏览下面的指南，或与技术支持工程师在线聊天——我们通常几分钟内回复。",
    "demo.search.label": "搜索帮助中心",
    "demo.search.placeholder": "搜索“发票”“SSH 密钥”“DNS”…",
    "demo.cards.heading": "热门主题",
    "demo.card.billing.title": "账单与发票",
    "demo.card.billing.body": "付款方式、发票、税号与退款。",
    "demo.card.servers.title": "服务器与网络",
    "demo.card.servers.body": "创建实例、挂载云盘、配置防火墙与 DNS。",
    "demo.card.account.title": "账户与安全",
    "demo.card.account.body": "双因素认证、API 令牌、团队成员与角色。",
    "demo.contact.heading": "联系人工客服",
    "demo.contact.body": "点击右下角的按钮打开聊天窗口。我们的团队全天候提供中英文服务。",
    "demo.contact.hours": "平均首次回复时间：2 分钟",
    "demo.footer": "© Acme Cloud, Inc. 这是 Parley 的演示页面。",
    "demo.inbox": "网页聊天收件箱：{id}",
    "widget.launcher_open": "在线咨询",
    "widget.launcher_close": "关闭聊天",
    "widget.title": "客户支持",
    "widget.close": "收起聊天",
    "widget.prechat_intro": "请简单介绍一下您自己，我们将为您接通客服团队。",
    "widget.name": "您的称呼",
    "widget.email": "邮箱（选填）",
    "widget.topic": "咨询主题",
    "widget.start": "开始聊天",
    "widget.starting": "正在开始…",
    "widget.required": "请填写此项。",
    "widget.invalid": "请检查此项。",
    "widget.input_label": "消息",
    "widget.placeholder": "输入消息…",
    "widget.send": "发送",
    "widget.queue": "您当前排在第 {position} 位，预计等待约 {minutes} 分钟",
    "widget.queue_no_eta": "您当前排在第 {position} 位",
    "widget.waiting": "正在等待客服…",
    "widget.joined": "{name} 已加入对话",
    "widget.typing": "客服正在输入…",
    "widget.typing_named": "{name} 正在输入…",
    "widget.resolved": "本次对话已结束——再次发送消息即可开始新的对话。",
    "widget.connecting": "正在连接…",
    "widget.reconnecting": "连接中断，正在重新连接…",
    "widget.error": "出现错误，请重试。",
    "widget.unavailable": "当前无法使用在线聊天。",
    "widget.pending": "发送中…",
    "widget.failed": "未发送——点击重试",
    "widget.you": "您",
    "widget.agent": "客服",
    "widget.unread": "{n} 条新消息"
  }
} /* i18n:end */;

const STORAGE_KEY = 'parley.lang';
const listeners = new Set();
let current = 'en';

// pickLanguage maps a list of BCP 47 tags (navigator.languages) to a
// supported language: any Chinese variant to zh-CN, otherwise the first
// supported tag, otherwise English.
export function pickLanguage(tags) {
  for (const raw of tags || []) {
    const tag = String(raw || '').toLowerCase();
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

function isSupported(code) {
  return Object.hasOwn(STRINGS, code);
}

// initLanguage chooses the language from a stored choice (unless useStored
// is false) or the browser's preferences and returns it.
export function initLanguage({ useStored = true } = {}) {
  let stored = null;
  try {
    stored = useStored ? localStorage.getItem(STORAGE_KEY) : null;
  } catch {
    stored = null;
  }
  const nav = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  current = stored && isSupported(stored) ? stored : pickLanguage(nav);
  document.documentElement.lang = current;
  return current;
}

export function getLanguage() {
  return current;
}

// setLanguage switches the language, remembers it and notifies listeners.
export function setLanguage(code, { persist = true } = {}) {
  if (!isSupported(code)) return;
  current = code;
  document.documentElement.lang = code;
  if (persist) {
    try {
      localStorage.setItem(STORAGE_KEY, code);
    } catch {
      // Storage may be unavailable (private mode); the choice lasts for this page.
    }
  }
  for (const fn of listeners) fn(code);
}

export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// has reports whether key exists (in English, the reference table).
export function has(key) {
  return Object.hasOwn(STRINGS.en, key);
}

// t translates key, replacing {name} placeholders with params. Values are
// plain strings meant for textContent, never for markup.
export function t(key, params) {
  const table = STRINGS[current] || STRINGS.en;
  let s = Object.hasOwn(table, key) ? table[key] : STRINGS.en[key];
  if (s === undefined) return key;
  if (params) {
    s = s.replace(/\{(\w+)\}/g, (m, name) => (Object.hasOwn(params, name) ? String(params[name]) : m));
  }
  return s;
}

// tOr translates key when it exists and returns fallback otherwise; used for
// values that come from the server (channel names, lifecycle stages).
export function tOr(key, fallback) {
  return has(key) ? t(key) : fallback;
}

// applyTranslations fills elements marked with data-i18n (text content),
// data-i18n-placeholder, data-i18n-aria-label and data-i18n-title.
export function applyTranslations(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const key = el.dataset.i18n;
    if (key) el.textContent = t(key);
  }
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  }
  for (const el of root.querySelectorAll('[data-i18n-title]')) {
    el.title = t(el.dataset.i18nTitle);
  }
}

function toDate(value) {
  if (!value) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

// formatTime shows the time of day for today's timestamps and the date and
// time otherwise.
export function formatTime(value) {
  const d = toDate(value);
  if (!d) return '';
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  const opts = sameDay
    ? { hour: '2-digit', minute: '2-digit' }
    : { year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  return new Intl.DateTimeFormat(current, opts).format(d);
}

export function formatDate(value) {
  const d = toDate(value);
  if (!d) return '';
  return new Intl.DateTimeFormat(current, { year: 'numeric', month: 'short', day: 'numeric' }).format(d);
}

export function formatDateTime(value) {
  const d = toDate(value);
  if (!d) return '';
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}
