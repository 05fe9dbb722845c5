package typefile

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/programs"
	"allimi/central/template"
)

func parking(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/parking-fine.toml")
	require.NoError(t, err)
	return b
}

func TestCheck_ANewTypeWithItsTemplates(t *testing.T) {
	t.Cleanup(allimi.ResetTypes)
	base, err := template.Default()
	require.NoError(t, err)
	info, set, err := Check("parking-fine", "parking-fine.toml", parking(t), base, nil)
	require.NoError(t, err)
	assert.Equal(t, "주정차 위반 과태료", info.Name)
	assert.Equal(t, "Parking fine", info.Names["en"])
	assert.Equal(t, []string{"amount", "place", "dueDate"}, info.Params)
	assert.Contains(t, info.Capabilities, allimi.CapPay)
	require.NoError(t, allimi.PutType(info))
	r, err := set.Render("parking-fine", allimi.ChannelSMS, map[string]string{"name": "김영희", "amount": "40,000", "dueDate": "3월 10일", "place": "종로", "link": "https://a.kr/n/x"})
	require.NoError(t, err)
	assert.Equal(t, "[알리미] 김영희님 주정차 과태료 40,000원 기한 3월 10일 https://a.kr/n/x", r.Text)
}

// A file is refused whole, each problem named with its place.
func TestCheck_RefusesNamingEveryProblem(t *testing.T) {
	base, err := template.Default()
	require.NoError(t, err)
	progs, err := programs.Default()
	require.NoError(t, err)
	file := string(parking(t))
	for _, c := range []struct {
		name, id, file, want string
	}{
		{"no type table", "parking-fine", file[strings.Index(file, "[kakao]"):], "no [type] table"},
		{"id not the URL's", "parking", file, `[type] id "parking-fine" is not the type put (parking)`},
		{"bad id", "Parking Fine", strings.Replace(file, `id = "parking-fine"`, `id = "Parking Fine"`, 1), "id:"},
		{"unknown language", "parking-fine", strings.Replace(file, "vi = ", "fr = ", 1), `names: "fr"`},
		{"label of no param", "parking-fine", strings.Replace(file, `place = "단속 장소"`, `street = "거리"`, 1), `labels: "street" is not one of params`},
		{"central's param", "parking-fine", strings.Replace(file, `params = ["amount"`, `params = ["link", "amount"`, 1), `params "link": central fills it in itself`},
		{"unknown variable", "parking-fine", strings.Replace(file, "납부 기한은 {{dueDate}}", "납부 기한은 {{due}}", 1), `parking-fine.toml: kakao: body line 3: unknown variable "due"`},
		{"too long for SMS as LMS", "parking-fine", strings.Replace(file, `body = "[알리미] {{name}}님 주정차`, `body = "`+strings.Repeat("가", 980)+` {{name}}님 주정차`, 1), "sms: body line 1: the link would be cut"},
		{"new-benefits is central's", "new-benefits", strings.Replace(file, `id = "parking-fine"`, `id = "new-benefits"`, 1), "central's own"},
		{"a program loses a param", "health-checkup", strings.Replace(strings.Replace(file, `id = "parking-fine"`, `id = "health-checkup"`, 1), "ALLIMI_PARKING", "ALLIMI_CHECKUP2", -1),
			"program health-checkup, step notice: gives no amount"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Cleanup(allimi.ResetTypes)
			_, _, err := Check(allimi.NotificationType(c.id), "parking-fine.toml", []byte(c.file), base, progs)
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err = Parse("big.toml", make([]byte, MaxSize+1))
	assert.ErrorContains(t, err, "larger than")
}

// The ten types ship as files an administrator can put as they are: each
// one's [type] table is the type as central knows it, and putting it
// unchanged checks.
func TestShippedTypeFiles_AreTheTypesAndCheck(t *testing.T) {
	t.Cleanup(allimi.ResetTypes)
	base, err := template.Default()
	require.NoError(t, err)
	progs, err := programs.Default()
	require.NoError(t, err)
	for _, want := range allimi.Types() {
		t.Run(string(want.ID), func(t *testing.T) {
			name := string(want.ID) + ".toml"
			data, err := os.ReadFile("../../assets/templates/" + name)
			require.NoError(t, err)
			got, err := Parse(name, data)
			require.NoError(t, err)
			assert.Equal(t, want.ID, got.ID)
			assert.Equal(t, want.Name, got.Name)
			assert.Equal(t, want.Params, nilIfEmpty(got.Params))
			assert.Equal(t, want.Optional, got.Optional)
			assert.Equal(t, want.ID.Payable(), slices.Contains(got.Capabilities, allimi.CapPay) || want.ID == allimi.TypeTrafficFine)
			if want.ID == allimi.TypeNewBenefits {
				return // central's own: not put
			}
			_, _, err = Check(want.ID, name, data, base, progs)
			assert.NoError(t, err, "put as shipped")
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// A type's file may come as JSON: the same tables, kept as TOML.
func TestFromJSON_TheSameTablesAsTOML(t *testing.T) {
	t.Cleanup(allimi.ResetTypes)
	js := `{"type":{"id":"parking-fine","name":"주정차 위반 과태료","params":["amount"],"payable":true},
	  "kakao":{"code":"ALLIMI_PARKING_J","title":"주정차 위반","body":"{{name}}님 과태료 {{amount}}원\n{{link}}"},
	  "naver":{"code":"ALLIMI_PARKING_J","title":"주정차 위반","body":"{{name}}님 과태료 {{amount}}원\n{{link}}"},
	  "toss":{"title":"주정차 위반","body":"{{name}}님 과태료 {{amount}}원 {{link}}"},
	  "sms":{"title":"[알리미] 주정차","body":"[알리미] {{name}}님 과태료 {{amount}}원 {{link}}"}}`
	file, err := FromJSON([]byte(js))
	require.NoError(t, err)
	base, err := template.Default()
	require.NoError(t, err)
	info, _, err := Check("parking-fine", "parking-fine.json", file, base, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"amount"}, info.Params)
	same, err := FromJSON(parking(t))
	require.NoError(t, err)
	assert.Equal(t, parking(t), same, "TOML as it is")
	_, err = FromJSON([]byte(`{"type":`))
	assert.ErrorIs(t, err, allimi.ErrInvalid)
}
