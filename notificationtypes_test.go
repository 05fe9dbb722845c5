package allimi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A type an administrator puts is known everywhere types are asked after;
// a built-in one may be changed; a bad id or name is refused and changes
// nothing.
func TestPutType_AddsOrReplacesAKnownType(t *testing.T) {
	t.Cleanup(ResetTypes)
	builtin := len(Types())
	parking := TypeInfo{ID: "parking-fine", Name: "주정차 위반 과태료", Capabilities: []Capability{CapNotify, CapPay},
		Params: []string{"amount", "place"}, Names: map[string]string{"en": "Parking fine"}, Version: 1}
	require.NoError(t, PutType(parking))
	got, ok := NotificationType("parking-fine").Info()
	require.True(t, ok)
	assert.Equal(t, parking, got)
	assert.NoError(t, NotificationType("parking-fine").Validate())
	assert.True(t, NotificationType("parking-fine").Payable())
	assert.Equal(t, NotificationType("parking-fine"), Types()[builtin].ID, "after the built-in ones")
	assert.Equal(t, NotificationType("parking-fine"), SignupTypes()[len(SignupTypes())-1].ID)

	changed := Types()[2]
	changed.Params = append(changed.Params, "cancers")
	changed.Version = 1
	require.NoError(t, PutType(changed))
	got, _ = changed.ID.Info()
	assert.Equal(t, []string{"year", "cancers"}, got.Params)
	assert.Len(t, Types(), builtin+1, "replaced in place")

	for _, bad := range []TypeInfo{{ID: "Parking", Name: "x"}, {ID: "p", Name: "x"}, {ID: "parking-fine"}, {ID: "x-y", Name: "x", Params: []string{"link"}}} {
		assert.ErrorIs(t, PutType(bad), ErrInvalid, "%+v", bad)
	}
	assert.Len(t, Types(), builtin+1)

	ResetTypes()
	assert.Len(t, Types(), builtin)
	assert.Error(t, NotificationType("parking-fine").Validate())
}

// A type's optional params may be given, need not be, and are the only
// other ones allowed.
func TestValidate_OptionalParams(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, KST)
	req := func(params map[string]string) *NotificationRequest {
		r := &NotificationRequest{Type: TypeRelief, Params: params}
		r.Audience.All = true
		return r
	}
	_, err := req(map[string]string{"amount": "250,000", "applyUntil": "2027-03-31"}).Validate(now)
	require.NoError(t, err, "none of them")
	_, err = req(map[string]string{"amount": "250,000", "applyUntil": "2027-03-31", "applyFrom": "2027-03-02", "howToApply": "주민센터 방문"}).Validate(now)
	require.NoError(t, err, "some of them")
	_, err = req(map[string]string{"amount": "250,000", "applyUntil": "2027-03-31", "colour": "red"}).Validate(now)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "params.colour", fe.Field)
	assert.Contains(t, fe.Reason, "howToApply")
	_, err = req(map[string]string{"applyFrom": "2027-03-02"}).Validate(now)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "params.amount", fe.Field, "the required ones still are")
}
