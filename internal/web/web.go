// Package web holds the JSON conventions of Parley's HTTP API, shared by the
// server and the channels' handlers: one place maps error codes to statuses.
package web

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
)

// MaxBody bounds a JSON request body.
const MaxBody = 1 << 20

// Status maps an error code to its HTTP status. It is the only such mapping.
func Status(code string) int {
	switch code {
	case parley.EINVALID:
		return http.StatusBadRequest
	case parley.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case parley.EFORBIDDEN:
		return http.StatusForbidden
	case parley.ENOTFOUND:
		return http.StatusNotFound
	case parley.ECONFLICT:
		return http.StatusConflict
	case parley.ERATELIMITED:
		return http.StatusTooManyRequests
	case parley.EUNPROCESSABLE:
		return http.StatusUnprocessableEntity
	case parley.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON of an error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error object of the v1 API.
type ErrorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// Detail returns err as the API's error object.
func Detail(err error) ErrorDetail {
	return ErrorDetail{Code: parley.ErrorCode(err), Message: parley.ErrorMessage(err), Fields: parley.ErrorFields(err)}
}

// Error writes err as JSON; internal errors are logged with the request.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := parley.ErrorCode(err)
	if code == parley.EINTERNAL {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	JSON(w, Status(code), ErrorBody{Detail(err)})
}

// JSON writes v with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Decode reads a JSON body into v, refusing unknown fields, trailing data and
// bodies over MaxBody with EINVALID.
func Decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decode(w, r, v, false)
}

// DecodeOptional is Decode for a body that may be left out: an empty body
// (with or without a Content-Length) leaves v as it is.
func DecodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	return decode(w, r, v, true)
}

func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return parley.Errorf(parley.EINVALID, "Request body is larger than %d bytes.", MaxBody)
		}
		if errors.Is(err, io.EOF) {
			if optional {
				return nil
			}
			return parley.Errorf(parley.EINVALID, "Request body is empty.")
		}
		return parley.Errorf(parley.EINVALID, "Invalid JSON: %s.", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return parley.Errorf(parley.EINVALID, "Invalid JSON: trailing data after the object.")
	}
	return nil
}

// ID parses a path or query id; a malformed one is not found.
func ID(s, what string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, parley.Errorf(parley.ENOTFOUND, "%s %q not found.", what, s)
	}
	return id, nil
}

// IDString formats an id for JSON.
func IDString(id int64) string { return strconv.FormatInt(id, 10) }
