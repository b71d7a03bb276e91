package server

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/postgres"
)

// customerRoutes lists the CRM routes (docs/customers.md).
func (s *Server) customerRoutes(m *web.Mux) {
	m.Handle("GET /api/v1/customers", s.auth(anyone, s.handleSearchCustomers()))
	m.Handle("GET /api/v1/customers/{id}", s.auth(anyone, s.handleCustomerProfile()))
	m.Handle("PATCH /api/v1/customers/{id}", s.auth(anyone, s.handleUpdateCustomer()))
	m.Handle("DELETE /api/v1/customers/{id}", s.auth(admins, s.handleEraseCustomer()))
	m.Handle("POST /api/v1/customers/{id}/identities", s.auth(anyone, s.handleLinkIdentity()))
	m.Handle("GET /api/v1/customers/{id}/duplicates", s.auth(anyone, s.handleDuplicates()))
	m.Handle("POST /api/v1/customers/{id}/merge", s.auth(anyone, s.handleMerge()))
	m.Handle("POST /api/v1/customers/{id}/unmerge", s.auth(supervisors, s.handleUnmerge()))
	m.Handle("GET /api/v1/customers/{id}/consents", s.auth(anyone, s.handleConsents()))
	m.Handle("PUT /api/v1/customers/{id}/consents", s.auth(anyone, s.handleSetConsent()))
	m.Handle("GET /api/v1/customers/{id}/notes", s.auth(anyone, s.handleNotes()))
	m.Handle("POST /api/v1/customers/{id}/notes", s.auth(anyone, s.handleAddNote()))
	m.Handle("GET /api/v1/customers/{id}/export", s.auth(supervisors, s.handleExportCustomer()))
	s.crmRoutes(m)
}

// visibleCustomer returns a customer id the user may see (crm role rules:
// agents the customers of conversations they or their queues handle;
// supervisors and admins all). Others get 403.
func (s *Server) visibleCustomer(ctx context.Context, agent parley.Agent, raw string) (int64, error) {
	id, err := web.ID(raw, "customer")
	if err != nil {
		return 0, err
	}
	if _, err := s.DB.Customer(ctx, id); err != nil {
		return 0, err
	}
	ok, err := s.DB.CustomerVisible(ctx, agent, id)
	if err != nil {
		return 0, err
	} else if !ok {
		return 0, parley.Errorf(parley.EFORBIDDEN, "Customer %d is not one of your or your queues' customers.", id)
	}
	return id, nil
}

// customerView is a profile as the API shows it.
type customerView struct {
	crm.Profile
	// Region is derived from the customer's phone numbers (crm.Region),
	// or else is the region their browser reported; RegionSource says
	// which ("phone", "browser", "" when unknown).
	Region            string                `json:"region"`
	RegionSource      string                `json:"region_source"`
	Identities        []parley.Identity     `json:"identities"`
	PastConversations []parley.Conversation `json:"past_conversations"`
	Notes             []crm.Note            `json:"notes"`
	Duplicates        []crm.Duplicate       `json:"duplicates"`
	Merges            []crm.Merge           `json:"merges"`
	AttributeDefs     []crm.AttributeDef    `json:"attribute_defs"`
	// Consents are the recorded opt-ins and opt-outs of the customer's
	// SMS and WhatsApp addresses.
	Consents []postgres.Consent `json:"consents"`
}

func (s *Server) customerView(ctx context.Context, id int64) (customerView, error) {
	var v customerView
	c360, err := s.DB.Customer360(ctx, id, 0, 10)
	if err != nil {
		return v, err
	}
	if v.Profile, err = s.DB.Profile(ctx, id); err != nil {
		return v, err
	}
	v.Identities, v.PastConversations = c360.Identities, c360.PastConversations
	v.Region, v.RegionSource = crm.Region(v.Phone, v.Identities), "phone"
	if v.Region == "" {
		v.Region, v.RegionSource = v.BrowserRegion, "browser"
	}
	if v.Region == "" {
		v.RegionSource = ""
	}
	if v.Notes, err = s.DB.Notes(ctx, id, 0, 50); err != nil {
		return v, err
	}
	if v.Duplicates, err = s.DB.Duplicates(ctx, id); err != nil {
		return v, err
	}
	if v.Merges, err = s.DB.Merges(ctx, id); err != nil {
		return v, err
	}
	if v.AttributeDefs, err = s.DB.AttributeDefs(ctx); err != nil {
		return v, err
	}
	if v.Consents, err = s.DB.Consents(ctx, id); err != nil {
		return v, err
	}
	if v.Consents == nil {
		v.Consents = []postgres.Consent{}
	}
	return v, nil
}

func (s *Server) handleCustomerProfile() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		id, err := s.visibleCustomer(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		v, err := s.customerView(r.Context(), id)
		if err != nil {
			return err
		}
		if err := s.DB.LogCustomerAccess(r.Context(), id, agent, "view", nil); err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, v)
		return nil
	})
}

func (s *Server) handleSearchCustomers() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		f, err := s.segmentFilter(r)
		if err != nil {
			return err
		}
		return s.writeCustomerPage(w, r, f, nil)
	})
}

func (s *Server) handleUpdateCustomer() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		id, err := s.visibleCustomer(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		var p crm.Patch
		if err := web.Decode(w, r, &p); err != nil {
			return err
		}
		out, err := s.DB.UpdateProfile(r.Context(), id, p, agent)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

func (s *Server) handleLinkIdentity() http.Handler {
	type request struct {
		Channel string `json:"channel"`
		Address string `json:"address"`
	}
	type response struct {
		Linked     bool              `json:"linked"`
		Identity   parley.Identity   `json:"identity"`
		Duplicates []crm.Duplicate   `json:"duplicates"`
		Identities []parley.Identity `json:"identities"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		id, err := s.visibleCustomer(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		ident, err := crm.NormalizeIdentity(parley.Identity{Channel: parley.Channel(req.Channel), Address: req.Address})
		if err != nil {
			return err
		}
		linked, owner, err := s.DB.LinkIdentity(r.Context(), id, ident, agent)
		if err != nil {
			return err
		}
		out := response{Linked: linked, Identity: ident, Duplicates: []crm.Duplicate{}}
		if !linked {
			// Never steal an identity: suggest merging with its owner.
			p, err := s.DB.Profile(r.Context(), owner)
			if err != nil {
				return err
			}
			out.Duplicates = append(out.Duplicates, crm.Duplicate{Customer: p, Reasons: []string{crm.ReasonIdentityOwned}})
		}
		if out.Identities, err = s.DB.Identities(r.Context(), id); err != nil {
			return err
		}
		status := http.StatusCreated
		if !linked {
			status = http.StatusOK
		}
		web.JSON(w, status, out)
		return nil
	})
}

func (s *Server) handleDuplicates() http.Handler { return customerList(s, s.DB.Duplicates) }

func (s *Server) handleMerge() http.Handler {
	type request struct {
		From string `json:"from"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		id, err := s.visibleCustomer(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		from, err := s.visibleCustomer(r.Context(), agent, req.From)
		if err != nil {
			return err
		}
		m, err := s.DB.Merge(r.Context(), id, from, agent)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, m)
		return nil
	})
}

func (s *Server) handleUnmerge() http.Handler {
	type request struct {
		MergeID string `json:"merge_id"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		id, err := s.visibleCustomer(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		mid, err := web.ID(req.MergeID, "merge")
		if err != nil {
			return err
		}
		m, err := s.DB.Unmerge(r.Context(), id, mid, agent)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, m)
		return nil
	})
}

func (s *Server) handleNotes() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.visibleCustomer(r.Context(), agentFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			return err
		}
		limit := int(queryInt(r, "limit"))
		if limit <= 0 || limit > 200 {
			limit = 50
		}
		notes, err := s.DB.Notes(r.Context(), id, queryInt(r, "cursor"), limit)
		if err != nil {
			return err
		}
		out := listOf(notes)
		if len(notes) == limit {
			out.NextCursor = web.IDString(notes[len(notes)-1].ID)
		}
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

func (s *Server) handleAddNote() http.Handler {
	type request struct {
		Body string `json:"body"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		id, err := s.visibleCustomer(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		n, err := s.DB.AddNote(r.Context(), id, agent, req.Body)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusCreated, n)
		return nil
	})
}

func (s *Server) handleExportCustomer() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		id, err := s.visibleCustomer(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		out, err := s.DB.ExportCustomer(r.Context(), id, agent)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Disposition", `attachment; filename="customer-`+web.IDString(id)+`.json"`)
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

func (s *Server) handleEraseCustomer() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		id, err := s.visibleCustomer(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		if err := s.DB.EraseCustomer(r.Context(), id, agent); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *Server) handleConsents() http.Handler { return customerList(s, s.DB.Consents) }

// customerList serves {"items": list(customer)} for a customer the user
// may see.
func customerList[T any](s *Server, list func(context.Context, int64) ([]T, error)) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.visibleCustomer(r.Context(), agentFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			return err
		}
		items, err := list(r.Context(), id)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(items))
		return nil
	})
}

// handleSetConsent records, for a customer's SMS or WhatsApp address, that
// they opted in or out (e.g. said so on a call). An opted-out address gets
// no message on that channel, as after STOP. The change is in the
// customer's access log.
func (s *Server) handleSetConsent() http.Handler {
	type request struct {
		Channel string `json:"channel"`
		Address string `json:"address"`
		Status  string `json:"status"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		id, err := s.visibleCustomer(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		ch := parley.Channel(req.Channel)
		if ch != parley.ChannelSMS && ch != parley.ChannelWhatsApp {
			return parley.Invalid("Consent is recorded for SMS and WhatsApp.", map[string]string{"channel": "sms or whatsapp"})
		}
		if req.Status != postgres.ConsentOptedIn && req.Status != postgres.ConsentOptedOut {
			return parley.Invalid("Invalid consent.", map[string]string{"status": "opted_in or opted_out"})
		}
		ident, err := crm.NormalizeIdentity(parley.Identity{Channel: ch, Address: req.Address})
		if err != nil {
			return err
		}
		ids, err := s.DB.Identities(r.Context(), id)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(ids, func(i parley.Identity) bool { return i.Channel == ch && i.Address == ident.Address }) {
			return parley.Invalid("Not an address of this customer.", map[string]string{"address": "one of the customer's " + req.Channel + " identities"})
		}
		source := "agent:" + strconv.FormatInt(agent.ID, 10)
		if err := s.DB.SetConsent(r.Context(), id, ch, ident.Address, req.Status, source); err != nil {
			return err
		}
		if err := s.DB.LogCustomerAccess(r.Context(), id, agent, "consent",
			map[string]any{"channel": ch, "address": ident.Address, "status": req.Status}); err != nil {
			return err
		}
		cs, err := s.DB.Consents(r.Context(), id)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(cs))
		return nil
	})
}
