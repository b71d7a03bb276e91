package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/web"
)

// crmRoutes lists the CRM's definitions, settings, segments and the
// timeline (docs/customers.md).
func (s *Server) crmRoutes(m *web.Mux) {
	m.Handle("GET /api/v1/customers/{id}/timeline", s.auth(anyone, s.handleTimeline()))
	m.Handle("GET /api/v1/customer-attributes", s.auth(anyone, s.handleAttributeDefs()))
	m.Handle("PUT /api/v1/customer-attributes/{key}", s.auth(admins, s.handlePutAttributeDef()))
	m.Handle("DELETE /api/v1/customer-attributes/{key}", s.auth(admins, s.handleDeleteAttributeDef()))
	m.Handle("GET /api/v1/crm/settings", s.auth(supervisors, s.handleCRMSettings()))
	m.Handle("PUT /api/v1/crm/settings", s.auth(admins, s.handlePutCRMSettings()))
	m.Handle("GET /api/v1/segments", s.auth(supervisors, s.handleSegments()))
	m.Handle("POST /api/v1/segments", s.auth(supervisors, s.handleCreateSegment()))
	m.Handle("GET /api/v1/segments/{id}", s.auth(supervisors, s.handleSegment()))
	m.Handle("PUT /api/v1/segments/{id}", s.auth(supervisors, s.handleUpdateSegment()))
	m.Handle("DELETE /api/v1/segments/{id}", s.auth(supervisors, s.handleDeleteSegment()))
	m.Handle("GET /api/v1/segments/{id}/customers", s.auth(supervisors, s.handleSegmentCustomers()))
	m.Handle("POST /api/v1/customers/import", s.auth(supervisors, s.handleImportCustomers()))
	m.Handle("GET /api/v1/customer-imports/{id}", s.auth(supervisors, s.handleImport()))
	m.Handle("GET /api/v1/customers/export", s.auth(supervisors, s.handleExportCustomers()))
}

func (s *Server) handleTimeline() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.visibleCustomer(r.Context(), agentFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			return err
		}
		limit := int(queryInt(r, "limit"))
		if limit <= 0 || limit > 200 {
			limit = 50
		}
		items, next, err := s.DB.Timeline(r.Context(), id, r.URL.Query().Get("cursor"), limit)
		if err != nil {
			return err
		}
		out := listOf(items)
		out.NextCursor = next
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

func (s *Server) handleAttributeDefs() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		defs, err := s.DB.AttributeDefs(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(defs))
		return nil
	})
}

func (s *Server) handlePutAttributeDef() http.Handler {
	type request struct {
		Label   string   `json:"label"`
		Type    string   `json:"type"`
		Options []string `json:"options"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		d := crm.AttributeDef{Key: r.PathValue("key"), Label: req.Label, Type: req.Type, Options: req.Options}
		if err := d.Validate(); err != nil {
			return err
		}
		created, err := s.DB.PutAttributeDef(r.Context(), d)
		if err != nil {
			return err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		web.JSON(w, status, d)
		return nil
	})
}

func (s *Server) handleDeleteAttributeDef() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		if err := s.DB.DeleteAttributeDef(r.Context(), r.PathValue("key")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *Server) handleCRMSettings() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		st, err := s.DB.CRMSettings(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, st)
		return nil
	})
}

func (s *Server) handlePutCRMSettings() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		var st crm.Settings
		if err := web.Decode(w, r, &st); err != nil {
			return err
		}
		if err := st.Validate(); err != nil {
			return err
		}
		if err := s.DB.SetCRMSettings(r.Context(), st); err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, st)
		return nil
	})
}

// handleSegments lists the segments, each with its current size.
func (s *Server) handleSegments() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		list, err := s.DB.Segments(r.Context())
		if err != nil {
			return err
		}
		for i := range list {
			n, err := s.DB.SegmentSize(r.Context(), list[i].Filter)
			if err != nil {
				return err
			}
			list[i].Size = &n
		}
		web.JSON(w, http.StatusOK, listOf(list))
		return nil
	})
}

// segmentRequest decodes and validates a segment's name, filter and boost.
func (s *Server) segmentRequest(w http.ResponseWriter, r *http.Request) (crm.Segment, error) {
	var req struct {
		Name          string     `json:"name"`
		Filter        crm.Filter `json:"filter"`
		PriorityBoost int        `json:"priority_boost"`
	}
	if err := web.Decode(w, r, &req); err != nil {
		return crm.Segment{}, err
	}
	defs, err := s.DB.AttributeDefs(r.Context())
	if err != nil {
		return crm.Segment{}, err
	}
	seg := crm.Segment{Name: req.Name, Filter: req.Filter, PriorityBoost: req.PriorityBoost}
	return seg, seg.Validate(crm.DefsByKey(defs))
}

func (s *Server) handleCreateSegment() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		seg, err := s.segmentRequest(w, r)
		if err != nil {
			return err
		}
		if err := s.DB.CreateSegment(r.Context(), &seg, agentFrom(r.Context())); err != nil {
			return err
		}
		web.JSON(w, http.StatusCreated, seg)
		return nil
	})
}

// handleUpdateSegment replaces a segment's name, filter and boost.
func (s *Server) handleUpdateSegment() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "segment")
		if err != nil {
			return err
		}
		seg, err := s.segmentRequest(w, r)
		if err != nil {
			return err
		}
		seg.ID = id
		if err := s.DB.UpdateSegment(r.Context(), &seg); err != nil {
			return err
		}
		n, err := s.DB.SegmentSize(r.Context(), seg.Filter)
		seg.Size = &n
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, seg)
		return nil
	})
}

// segmentWithSize returns the path's segment and its current size.
func (s *Server) segmentWithSize(r *http.Request) (crm.Segment, error) {
	id, err := web.ID(r.PathValue("id"), "segment")
	if err != nil {
		return crm.Segment{}, err
	}
	seg, err := s.DB.Segment(r.Context(), id)
	if err != nil {
		return seg, err
	}
	n, err := s.DB.SegmentSize(r.Context(), seg.Filter)
	seg.Size = &n
	return seg, err
}

func (s *Server) handleSegment() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		seg, err := s.segmentWithSize(r)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, seg)
		return nil
	})
}

func (s *Server) handleDeleteSegment() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "segment")
		if err != nil {
			return err
		}
		if err := s.DB.DeleteSegment(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *Server) handleSegmentCustomers() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		seg, err := s.segmentWithSize(r)
		if err != nil {
			return err
		}
		return s.writeCustomerPage(w, r, &seg.Filter, map[string]any{"size": *seg.Size})
	})
}

// writeCustomerPage writes one keyset page of the customers matching the
// request's q (and filter, if any), with extra fields beside items.
func (s *Server) writeCustomerPage(w http.ResponseWriter, r *http.Request, filter *crm.Filter, extra map[string]any) error {
	limit := int(queryInt(r, "limit"))
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	list, err := s.DB.SearchCustomers(r.Context(), agentFrom(r.Context()), r.URL.Query().Get("q"), filter, queryInt(r, "cursor"), limit)
	if err != nil {
		return err
	}
	out := map[string]any{"items": list, "next_cursor": ""}
	if len(list) == limit {
		out["next_cursor"] = web.IDString(list[len(list)-1].ID)
	}
	for k, v := range extra {
		out[k] = v
	}
	web.JSON(w, http.StatusOK, out)
	return nil
}

// segmentFilter is the filter of the request's segment= parameter (nil
// without one).
func (s *Server) segmentFilter(r *http.Request) (*crm.Filter, error) {
	raw := strings.TrimSpace(r.URL.Query().Get("segment"))
	if raw == "" {
		return nil, nil
	}
	id, err := web.ID(raw, "segment")
	if err != nil {
		return nil, err
	}
	seg, err := s.DB.Segment(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return &seg.Filter, nil
}

// maxImportBytes bounds an uploaded CSV file.
const maxImportBytes = 20 << 20

// importInline is the largest import run within the request; larger ones
// run as a job and are followed through GET /customer-imports/{id}.
const importInline = 200

func (s *Server) handleImportCustomers() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(w, r.Body, maxImportBytes+1<<20)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return parley.Invalid("The file is too large.", map[string]string{"file": "at most 20 MiB"})
			}
			return parley.Invalid("Send multipart/form-data with file, mapping and region.", map[string]string{"file": "required"})
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			return parley.Invalid("A CSV file is required.", map[string]string{"file": "required"})
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
		if err != nil {
			return err
		}
		if len(data) > maxImportBytes {
			return parley.Invalid("The file is too large.", map[string]string{"file": "at most 20 MiB"})
		}
		var mapping map[string]string
		if err := json.Unmarshal([]byte(r.FormValue("mapping")), &mapping); err != nil {
			return parley.Invalid("The mapping is a JSON object of column to field.", map[string]string{"mapping": `e.g. {"E-mail": "email", "Plan": "attributes.plan", "Notes": "ignore"}`})
		}
		region := strings.ToUpper(strings.TrimSpace(r.FormValue("region")))
		if region != "" && (len(region) != 2 || strings.Trim(region, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
			return parley.Invalid("Invalid region.", map[string]string{"region": "a two-letter country code such as US"})
		}
		header, rows, err := crm.ReadCSV(data)
		if err != nil {
			return err
		}
		defs, err := s.DB.AttributeDefs(r.Context())
		if err != nil {
			return err
		}
		if err := crm.ValidateMapping(header, mapping, crm.DefsByKey(defs)); err != nil {
			return err
		}
		im, err := s.DB.CreateImport(r.Context(), data, mapping, region, len(rows), agentFrom(r.Context()))
		if err != nil {
			return err
		}
		status := http.StatusAccepted
		if len(rows) <= importInline {
			err, status = s.DB.RunImport(r.Context(), im.ID), http.StatusCreated
		} else {
			err = s.Desk.QueueImport(r.Context(), im.ID)
		}
		if err != nil {
			return err
		}
		if im, err = s.DB.Import(r.Context(), im.ID); err != nil {
			return err
		}
		web.JSON(w, status, im)
		return nil
	})
}

func (s *Server) handleImport() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "import")
		if err != nil {
			return err
		}
		im, err := s.DB.Import(r.Context(), id)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, im)
		return nil
	})
}

func (s *Server) handleExportCustomers() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		f, err := s.segmentFilter(r)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="customers.csv"`)
		w.Header().Set("Cache-Control", "private, no-store")
		if err := s.DB.ExportCustomersCSV(r.Context(), w, r.URL.Query().Get("q"), f, agentFrom(r.Context())); err != nil {
			s.Log.Error("customer export", "error", err) // the header is sent; the file ends early
		}
		return nil
	})
}
