package server

import "net/http"

// routes lists every route of the server.
func (s *Server) routes() {
	m := s.mux
	m.Handle("GET /healthz", s.handleHealth())
	m.Handle("GET /readyz", s.handleReady())
	m.Handle("GET /metrics", s.handleMetrics())

	m.Handle("GET /api/v1/openapi.json", s.handleOpenAPI())
	m.Handle("POST /api/v1/auth/login", s.handleLogin())
	m.Handle("POST /api/v1/auth/logout", s.auth(anyone, s.handleLogout()))
	m.Handle("GET /api/v1/auth/me", s.auth(anyone, s.handleMe()))

	m.Handle("GET /api/v1/agents", s.auth(supervisors, s.handleAgents()))
	m.Handle("POST /api/v1/agents", s.auth(admins, s.handleCreateAgent()))
	m.Handle("GET /api/v1/agents/{id}", s.auth(supervisors, s.handleAgent()))
	m.Handle("PATCH /api/v1/agents/{id}", s.auth(admins, s.handleUpdateAgent()))
	m.Handle("DELETE /api/v1/agents/{id}", s.auth(admins, s.handleDeleteAgent()))

	m.Handle("GET /api/v1/queues", s.auth(anyone, s.handleQueues()))
	m.Handle("POST /api/v1/queues", s.auth(admins, s.handleCreateQueue()))
	m.Handle("GET /api/v1/queues/{id}", s.auth(anyone, s.handleQueue()))
	m.Handle("PATCH /api/v1/queues/{id}", s.auth(admins, s.handleUpdateQueue()))

	m.Handle("GET /api/v1/inboxes", s.auth(supervisors, s.handleInboxes()))
	m.Handle("POST /api/v1/inboxes", s.auth(admins, s.handleCreateInbox()))
	m.Handle("GET /api/v1/inboxes/{id}", s.auth(supervisors, s.handleInbox()))
	m.Handle("PATCH /api/v1/inboxes/{id}", s.auth(admins, s.handleUpdateInbox()))

	m.Handle("GET /api/v1/conversations", s.auth(anyone, s.handleConversations()))
	m.Handle("GET /api/v1/conversations/{id}", s.auth(anyone, s.handleConversation()))
	m.Handle("GET /api/v1/conversations/{id}/messages", s.auth(anyone, s.handleMessages()))
	m.Handle("POST /api/v1/conversations/{id}/messages", s.auth(anyone, s.handleSend()))
	m.Handle("POST /api/v1/conversations/{id}/resolve", s.auth(anyone, s.handleResolve()))
	m.Handle("POST /api/v1/conversations/{id}/transfer", s.auth(anyone, s.handleTransfer()))
	s.conversationStatusRoutes(m) // pending/snoozed, reopen, tags (conversation_status.go)
	m.Handle("GET /api/v1/conversations/{id}/whatsapp-templates", s.auth(anyone, s.handleWhatsAppTemplates()))
	m.Handle("POST /api/v1/conversations/{id}/template-messages", s.auth(anyone, s.handleSendTemplate()))
	m.Handle("GET /api/v1/agent/softphone", s.auth(anyone, s.handleSoftphone()))
	m.Handle("POST /api/v1/agent/voice-token", s.auth(anyone, s.handleVoiceToken()))
	m.Handle("GET /api/v1/messages/{id}/attachments/{index}", s.auth(anyone, s.handleAttachment()))
	m.Handle("GET /api/v1/messages/{id}/html", s.auth(anyone, s.handleMessageHTML()))

	m.Handle("GET /api/v1/conversations/{id}/sla", s.auth(anyone, s.handleConversationSLA()))
	m.Handle("GET /api/v1/sla/policies", s.auth(supervisors, s.handleSLAPolicies()))
	m.Handle("POST /api/v1/sla/policies", s.auth(admins, s.handleCreateSLAPolicy()))
	m.Handle("GET /api/v1/sla/policies/{id}", s.auth(supervisors, s.handleSLAPolicy()))
	m.Handle("PATCH /api/v1/sla/policies/{id}", s.auth(admins, s.handleUpdateSLAPolicy()))
	m.Handle("DELETE /api/v1/sla/policies/{id}", s.auth(admins, s.handleDeleteSLAPolicy()))
	m.Handle("GET /api/v1/sla/calendars", s.auth(supervisors, s.handleSLACalendars()))
	m.Handle("POST /api/v1/sla/calendars", s.auth(admins, s.handleCreateSLACalendar()))
	m.Handle("GET /api/v1/sla/calendars/{id}", s.auth(supervisors, s.handleSLACalendar()))
	m.Handle("PATCH /api/v1/sla/calendars/{id}", s.auth(admins, s.handleUpdateSLACalendar()))
	m.Handle("DELETE /api/v1/sla/calendars/{id}", s.auth(admins, s.handleDeleteSLACalendar()))
	m.Handle("POST /api/v1/sla/calendars/{id}/holidays", s.auth(admins, s.handleImportSLADays()))
	m.Handle("GET /api/v1/sla/at-risk", s.auth(supervisors, s.handleSLAAtRisk()))

	s.customerRoutes(m) // CRM: profile, search, identities, duplicates, merge, notes, export, erasure (customers.go)

	m.Handle("GET /api/v1/agent/ws", s.auth(anyone, s.handleAgentSocket()))

	m.Handle("GET /api/v1/gamification/rules", s.auth(anyone, s.handleGamificationRules()))
	m.Handle("PUT /api/v1/gamification/rules", s.auth(admins, s.handleUpdateGamificationRules()))
	m.Handle("GET /api/v1/gamification/catalog", s.auth(anyone, s.handleGamificationCatalog()))
	m.Handle("GET /api/v1/gamification/me", s.auth(anyone, s.handleMyAchievements()))
	m.Handle("PUT /api/v1/gamification/me", s.auth(anyone, s.handleUpdateMyGamification()))
	m.Handle("GET /api/v1/agents/{id}/achievements", s.auth(anyone, s.handleAchievements()))
	m.Handle("GET /api/v1/leaderboard", s.auth(anyone, s.handleLeaderboard()))
	m.Handle("GET /api/v1/leaderboard/teams", s.auth(anyone, s.handleTeamStandings()))
	m.Handle("GET /api/v1/quests", s.auth(anyone, s.handleQuests()))
	m.Handle("POST /api/v1/quests", s.auth(supervisors, s.handleCreateQuest()))
	m.Handle("GET /api/v1/quests/{id}", s.auth(anyone, s.handleQuest()))
	m.Handle("DELETE /api/v1/quests/{id}", s.auth(supervisors, s.handleDeleteQuest()))
	m.Handle("GET /api/v1/supervisor/snapshot", s.auth(supervisors, s.handleSnapshot()))
	s.supervisorRoutes(m) // supervisor socket, interventions, audit log, reports (supervisorws.go)
	s.surveyRoutes(m)     // survey definitions, feedback report, email answer page (surveys.go)
	s.feedbackRoutes(m)   // feedback items, their settings and report (feedback.go)

	s.Webchat.Routes(m)
	s.Twilio.Routes(m, func(h http.Handler) http.Handler { return s.auth(admins, h) })

	ui := s.UI.Handler()
	m.Handle("GET /console/", ui)
	m.Handle("GET /assets/", ui)
	m.Handle("GET /widget.js", ui)
	m.Handle("GET /demo", s.handleDemo())
	m.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusFound))
}
