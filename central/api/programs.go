package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"allimi"
	"allimi/central/programs"
)

// Programs enrols people in programs of notifications and takes the
// agencies' changes and events (central/programs.Service).
type Programs interface {
	Enrol(agency, program, idemKey string, req *programs.EnrolRequest) (programs.View, bool, error)
	Get(agency, id string) (programs.View, error)
	Change(agency, id string, req *programs.ChangeRequest) (programs.View, error)
	Cancel(agency, id string) (programs.View, error)
	Event(agency, id string, req *programs.EventRequest) (programs.View, error)
	// Type is the notification type a program's steps are sent as.
	Type(program string) (allimi.NotificationType, bool)
}

func (s *Server) programRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/programs/{program}/enrolments", s.agency(s.handleEnrolInProgram))
	mux.HandleFunc("GET /api/v1/programs/enrolments/{id}", s.agency(s.handleGetEnrolment))
	mux.HandleFunc("PATCH /api/v1/programs/enrolments/{id}", s.agency(s.handleChangeEnrolment))
	mux.HandleFunc("DELETE /api/v1/programs/enrolments/{id}", s.agency(s.handleCancelEnrolment))
	mux.HandleFunc("POST /api/v1/programs/enrolments/{id}/events", s.agency(s.handleEnrolmentEvent))
}

// maxProgramBody bounds an enrolment's, a change's or an event's body
// (httplimits.go).
const maxProgramBody = 16 << 10

// decodeStrict reads one JSON object into v (under the route's limit,
// httplimits.go), refusing unknown fields and anything after it, as a 400
// naming what is wrong.
func decodeStrict(r *http.Request, v any) error {
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return allimi.FieldErr("body", "not the JSON expected: %v", err)
	}
	if d.More() {
		return allimi.FieldErr("body", "one JSON object, and nothing after it")
	}
	return nil
}

func (s *Server) handleEnrolInProgram(w http.ResponseWriter, r *http.Request, agency string) {
	program := r.PathValue("program")
	t, ok := s.Programs.Type(program)
	if !ok {
		s.writeProgramError(w, fmt.Errorf("program %q: %w", program, programs.ErrUnknownProgram))
		return
	}
	var req programs.EnrolRequest
	if err := decodeStrict(r, &req); err != nil {
		writeFieldError(w, err)
		return
	}
	if !s.checkAgencyPolicy(w, agency, &allimi.NotificationRequest{Type: t}) {
		return
	}
	idem := r.Header.Get("Idempotency-Key")
	if len(idem) > 200 {
		writeFieldError(w, allimi.FieldErr("Idempotency-Key", "longer than 200 characters"))
		return
	}
	v, repeat, err := s.Programs.Enrol(agency, program, idem, &req)
	if err != nil {
		s.writeProgramError(w, err)
		return
	}
	code := http.StatusCreated
	if repeat {
		code = http.StatusOK
	} else {
		s.Log.Info("enrolled in a program", "agency", agency, "program", v.Program, "enrolment", v.ID)
	}
	writeJSON(w, code, v)
}

func (s *Server) handleGetEnrolment(w http.ResponseWriter, r *http.Request, agency string) {
	v, err := s.Programs.Get(agency, r.PathValue("id"))
	if err != nil {
		s.writeProgramError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleChangeEnrolment(w http.ResponseWriter, r *http.Request, agency string) {
	var req programs.ChangeRequest
	if err := decodeStrict(r, &req); err != nil {
		writeFieldError(w, err)
		return
	}
	v, err := s.Programs.Change(agency, r.PathValue("id"), &req)
	if err != nil {
		s.writeProgramError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleCancelEnrolment(w http.ResponseWriter, r *http.Request, agency string) {
	v, err := s.Programs.Cancel(agency, r.PathValue("id"))
	if err != nil {
		s.writeProgramError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleEnrolmentEvent(w http.ResponseWriter, r *http.Request, agency string) {
	var req programs.EventRequest
	if err := decodeStrict(r, &req); err != nil {
		writeFieldError(w, err)
		return
	}
	v, err := s.Programs.Event(agency, r.PathValue("id"), &req)
	if err != nil {
		s.writeProgramError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// writeProgramError answers an error of the programs' service: 400 with
// the field, 404 for what the agency does not have, 409 for a cancelled
// enrolment, 500 for the rest.
func (s *Server) writeProgramError(w http.ResponseWriter, err error) {
	var fe *allimi.FieldError
	switch {
	case errors.As(err, &fe):
		writeFieldError(w, err)
	case errors.Is(err, allimi.ErrNotFound), errors.Is(err, programs.ErrUnknownProgram):
		writeError(w, http.StatusNotFound, err)
	case errors.Is(err, programs.ErrCancelled):
		writeError(w, http.StatusConflict, fmt.Errorf("%w: create a new one", err))
	default:
		writeError(w, http.StatusInternalServerError, err)
	}
}
