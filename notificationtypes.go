package allimi

import "fmt"

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

// TypeInfo describes a notification type. Names here are for logs and
// operators; what a person reads comes from the kiosk's translation files.
type TypeInfo struct {
	ID           NotificationType
	Name         string // Korean name as the service calls it
	Capabilities []Capability
	// Params are the parameters an agency must give for every recipient of
	// a notice of this type (at the notice's level or per recipient);
	// templates may use them, plus the ones central always supplies
	// (CommonParams).
	Params []string
}

// CommonParams are the template variables central fills in itself: the
// recipient's name and the short link to the detail page.
var CommonParams = []string{"name", "link"}

// Types lists the service's ten notification types in the order it shows
// them, then Allimi's own new-benefits notice.
var Types = []TypeInfo{
	{TypeTrafficPenalty, "교통 과태료", []Capability{CapNotify, CapAuthenticate, CapPay}, []string{"amount", "dueDate", "violation"}},
	{TypeTrafficFine, "교통 범칙금", []Capability{CapNotify, CapAuthenticate}, []string{"amount", "dueDate", "violation"}},
	{TypeHealthCheckup, "국가건강검진", []Capability{CapNotify}, []string{"year"}},
	{TypeLicenceRenewal, "운전면허 갱신", []Capability{CapNotify}, []string{"dueDate"}},
	{TypeSchoolBusTraining, "어린이통학버스 운전자 안전교육", []Capability{CapNotify}, []string{"dueDate"}},
	{TypeSeniorDriverTraining, "고령운전자 교통안전교육", []Capability{CapNotify}, []string{"dueDate"}},
	{TypeWelfareCard, "복지카드 가입", []Capability{CapNotify}, nil},
	{TypeVaccination, "코로나19 예방접종", []Capability{CapNotify, CapPerDose}, []string{"dose", "date"}},
	{TypeScholarship, "국가장학금", []Capability{CapNotify}, []string{"semester"}},
	{TypeRelief, "재난지원금", []Capability{CapNotify, CapEligibility}, []string{"amount", "applyUntil"}},
	{TypeNewBenefits, "새로 받을 수 있는 혜택", []Capability{CapNotify, CapEligibility}, []string{"service", "count"}},
}

// SignupTypes are the types a person picks in the sign-up list: all but
// new-benefits, which comes with the person's conditions from the subsidy
// check.
func SignupTypes() []TypeInfo {
	out := make([]TypeInfo, 0, len(Types))
	for _, ti := range Types {
		if ti.ID != TypeNewBenefits {
			out = append(out, ti)
		}
	}
	return out
}

// Info returns the description of t.
func (t NotificationType) Info() (TypeInfo, bool) {
	for _, ti := range Types {
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
