package allimi

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// NotificationType identifies one kind of notice of the public Virtual
// Assistant Service. The ids are part of the wire format: never rename one.
type NotificationType string

// The service's ten notification types.
const (
	TypeTrafficPenalty       NotificationType = "traffic-penalty"
	TypeTrafficFine          NotificationType = "traffic-fine"
	TypeHealthCheckup        NotificationType = "health-checkup"
	TypeLicenceRenewal       NotificationType = "licence-renewal"
	TypeSchoolBusTraining    NotificationType = "school-bus-training"
	TypeSeniorDriverTraining NotificationType = "senior-driver-training"
	TypeWelfareCard          NotificationType = "welfare-card"
	TypeVaccination          NotificationType = "vaccination"
	TypeScholarship          NotificationType = "scholarship"
	TypeRelief               NotificationType = "relief"
	// TypeNewBenefits is Allimi's own: a Subsidy 24 service that is new or
	// changed and that the person's conditions now make them eligible for.
	// It is granted with the person's conditions (ConsentPayload.Profile),
	// from the subsidy check, not in the sign-up list.
	TypeNewBenefits NotificationType = "new-benefits"
)

// Capability is something a notice of a type lets the person do.
type Capability string

// Capabilities a notification type may have.
const (
	CapNotify       Capability = "notify"       // tell the person
	CapAuthenticate Capability = "authenticate" // the detail page checks who reads it
	CapPay          Capability = "pay"          // the detail page links to payment
	CapPerDose      Capability = "per-dose"     // one reminder per vaccine dose
	CapEligibility  Capability = "eligibility"  // says whether, how much, how and until when
)

// TypeInfo describes a notification type. Names here are for logs,
// operators and the pages central serves; what a person reads at the
// kiosk comes from its translation files, or for a type added by an
// administrator from the types' catalog (Names).
type TypeInfo struct {
	ID           NotificationType
	Name         string // Korean name as the service calls it
	Capabilities []Capability
	// Params are the parameters an agency must give for every recipient of
	// a notice of this type (at the notice's level or per recipient);
	// templates may use them, plus the ones central always supplies
	// (CommonParams).
	Params []string
	// Optional are the parameters an agency may give besides Params: what
	// the service's own notice says of it beyond the message (a relief
	// payment's application period and how to apply), shown on the
	// detail page; a template may not use them, since they may be absent.
	Optional []string `json:",omitempty"`
	// Names are the type's name in the kiosk's other languages (en, ja,
	// zh, th, vi), and Descs a line saying what it tells the person, in
	// every language (ko too): for a type the kiosk's translation files do
	// not know.
	Names map[string]string `json:",omitempty"`
	Descs map[string]string `json:",omitempty"`
	// Labels name the params on the detail page (param → Korean label),
	// for params the page does not already know.
	Labels map[string]string `json:",omitempty"`
	// Version counts an administrator's changes to the type (0: as
	// shipped).
	Version uint64 `json:",omitempty"`
}

// CommonParams are the template variables central fills in itself: the
// recipient's name and the short link to the detail page.
var CommonParams = []string{"name", "link"}

// builtinTypes are the service's ten notification types in the order it
// shows them, then Allimi's own new-benefits notice.
var builtinTypes = []TypeInfo{
	{ID: TypeTrafficPenalty, Name: "교통 과태료", Capabilities: []Capability{CapNotify, CapAuthenticate, CapPay}, Params: []string{"amount", "dueDate", "violation"}},
	{ID: TypeTrafficFine, Name: "교통 범칙금", Capabilities: []Capability{CapNotify, CapAuthenticate}, Params: []string{"amount", "dueDate", "violation"}},
	{ID: TypeHealthCheckup, Name: "국가건강검진", Capabilities: []Capability{CapNotify}, Params: []string{"year"},
		Optional: []string{"date", "place", "cancers"}},
	{ID: TypeLicenceRenewal, Name: "운전면허 갱신", Capabilities: []Capability{CapNotify}, Params: []string{"dueDate"}},
	{ID: TypeSchoolBusTraining, Name: "어린이통학버스 운전자 안전교육", Capabilities: []Capability{CapNotify}, Params: []string{"dueDate"}},
	{ID: TypeSeniorDriverTraining, Name: "고령운전자 교통안전교육", Capabilities: []Capability{CapNotify}, Params: []string{"dueDate"}},
	{ID: TypeWelfareCard, Name: "복지카드 가입", Capabilities: []Capability{CapNotify}},
	{ID: TypeVaccination, Name: "코로나19 예방접종", Capabilities: []Capability{CapNotify, CapPerDose}, Params: []string{"dose", "date"}},
	{ID: TypeScholarship, Name: "국가장학금", Capabilities: []Capability{CapNotify}, Params: []string{"semester"}},
	{ID: TypeRelief, Name: "재난지원금", Capabilities: []Capability{CapNotify, CapEligibility}, Params: []string{"amount", "applyUntil"},
		Optional: []string{"applyFrom", "validUntil", "howToApply"}},
	{ID: TypeNewBenefits, Name: "새로 받을 수 있는 혜택", Capabilities: []Capability{CapNotify, CapEligibility}, Params: []string{"service", "count"}},
}

// known are the types known now: the built-in ones, changed or joined by
// those an administrator put (PutType). Read without a lock; replaced
// whole by a writer.
var (
	known   atomic.Pointer[[]TypeInfo]
	knownMu sync.Mutex // one writer at a time
)

func init() { ResetTypes() }

// Types lists the notification types known now: the service's ten in the
// order it shows them, Allimi's new-benefits notice, then the types an
// administrator added, in the order added. The slice is shared: read only.
func Types() []TypeInfo { return *known.Load() }

var typeIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,39}$`)

// ValidateTypeID checks the id of a new type: 2-40 lower-case letters,
// digits and dashes, starting with a letter (it goes into topics, files
// and URLs).
func ValidateTypeID(id NotificationType) error {
	if !typeIDPattern.MatchString(string(id)) {
		return fmt.Errorf("notification type id %q: 2-40 lower-case letters, digits and dashes, starting with a letter: %w", string(id), ErrInvalid)
	}
	return nil
}

// PutType makes ti known, in place of the type with its id or after the
// others. Central calls it at start for the types an administrator put,
// and when one is put; the kiosk, for the types of central's catalog.
func PutType(ti TypeInfo) error {
	if err := ValidateTypeID(ti.ID); err != nil {
		return err
	}
	if strings.TrimSpace(ti.Name) == "" {
		return fmt.Errorf("notification type %s: a Korean name is required: %w", ti.ID, ErrInvalid)
	}
	for _, p := range ti.Params {
		if slices.Contains(CommonParams, p) {
			return fmt.Errorf("notification type %s: param %q is central's own: %w", ti.ID, p, ErrInvalid)
		}
	}
	knownMu.Lock()
	defer knownMu.Unlock()
	next := slices.Clone(*known.Load())
	if i := slices.IndexFunc(next, func(t TypeInfo) bool { return t.ID == ti.ID }); i >= 0 {
		next[i] = ti
	} else {
		next = append(next, ti)
	}
	known.Store(&next)
	return nil
}

// ResetTypes forgets what PutType did: the built-in types only.
func ResetTypes() {
	knownMu.Lock()
	defer knownMu.Unlock()
	b := slices.Clone(builtinTypes)
	known.Store(&b)
}

// SignupTypes are the types a person picks in the sign-up list: all but
// new-benefits, which comes with the person's conditions from the subsidy
// check.
func SignupTypes() []TypeInfo {
	all := Types()
	out := make([]TypeInfo, 0, len(all))
	for _, ti := range all {
		if ti.ID != TypeNewBenefits {
			out = append(out, ti)
		}
	}
	return out
}

// Info returns the description of t.
func (t NotificationType) Info() (TypeInfo, bool) {
	for _, ti := range Types() {
		if ti.ID == t {
			return ti, true
		}
	}
	return TypeInfo{}, false
}

// Validate reports whether t is one of the known types.
func (t NotificationType) Validate() error {
	if _, ok := t.Info(); !ok {
		return fmt.Errorf("notification type %q: unknown: %w", string(t), ErrInvalid)
	}
	return nil
}

// Has reports whether notices of type t have capability c.
func (t NotificationType) Has(c Capability) bool {
	ti, _ := t.Info()
	for _, x := range ti.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// Payable reports whether notices of type t may carry a payment link: a
// penalty (과태료) and a fine (범칙금) can both be paid online, though only
// the penalty's notice is authenticated for payment by the service itself.
func (t NotificationType) Payable() bool { return t.Has(CapPay) || t == TypeTrafficFine }

// TypeDef is a notification type as an administrator put it: its file
// (the [type] table and the templates of its channels, as the files of
// assets/templates), one version per put.
type TypeDef struct {
	ID      NotificationType `json:"id"`
	Version uint64           `json:"version"`
	File    []byte           `json:"file"`
	Put     time.Time        `json:"put"`
}

// TypeDefs keeps the types administrators put, every version of each.
type TypeDefs interface {
	// PutTypeDef stores def's file as the next version of its type (1
	// for a type never put) and returns it with its version and time.
	PutTypeDef(def TypeDef) (TypeDef, error)
	// TypeDefs lists the latest version of every type put, by id.
	TypeDefs() ([]TypeDef, error)
	// TypeDefVersions lists every version of one type, oldest first
	// (none for a type never put).
	TypeDefVersions(id NotificationType) ([]TypeDef, error)
}

// TypesCatalog is the name of the signed catalog in which central gives
// kiosks the types administrators put (TypeList): a type added at central
// is offered at sign-up without a new kiosk release.
const TypesCatalog = "types"

// TypeList is the body of the types' catalog.
type TypeList struct {
	Types []TypeInfo `json:"types"`
}
