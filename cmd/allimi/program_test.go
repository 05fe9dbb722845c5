package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/internal/centraltest"
)

func runProgram(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	c := programCmd()
	var out bytes.Buffer
	c.SetArgs(args)
	c.SetOut(&out)
	c.SetErr(&out)
	err := c.Execute()
	return out.Bytes(), err
}

// An agency's commands against a real central: enrol, show, post an
// event, cancel; refusals come back with central's message.
func TestProgramCommands_EnrolShowEventCancel(t *testing.T) {
	t.Setenv("ALLIMI_AGENCY_TOKEN", "")
	c := centraltest.New(t)
	var token string
	c.Store(func(st *bolt.Store, _ *keyring.Keys) {
		ag, err := st.AddAgency("kdca")
		require.NoError(t, err)
		token = ag.Token
	})
	c.Start()
	common := []string{"--central", c.URL(), "--token", token}
	dose1 := time.Now().AddDate(0, 0, 3).Format(time.RFC3339)
	out, err := runProgram(t, append([]string{"enrol", "--program", "vaccination", "--mobile", "010-1234-5678",
		"--birth-date", "1948-05-17", "--anchor", "dose1=" + dose1, "--param", "place=종로구 보건소"}, common...)...)
	require.NoError(t, err, "%s", out)
	var v struct {
		ID    string
		Steps []struct{ Step, State string }
	}
	require.NoError(t, json.Unmarshal(out, &v), "%s", out)
	require.Len(t, v.Steps, 7)
	assert.Equal(t, "sent", v.Steps[0].State)

	out, err = runProgram(t, append([]string{"event", v.ID, "--event", "dose1.administered", "--param", "vaccine=화이자"}, common...)...)
	require.NoError(t, err, "%s", out)
	out, err = runProgram(t, append([]string{"show", v.ID}, common...)...)
	require.NoError(t, err, "%s", out)
	require.NoError(t, json.Unmarshal(out, &v))
	assert.Equal(t, "sent", v.Steps[2].State, "dose1.result")

	_, err = runProgram(t, append([]string{"event", v.ID, "--event", "dose9.administered"}, common...)...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"dose9.administered" is not an event of vaccination`)
	assert.Contains(t, err.Error(), "HTTP 400")

	out, err = runProgram(t, append([]string{"cancel", v.ID}, common...)...)
	require.NoError(t, err, "%s", out)
	_, err = runProgram(t, append([]string{"change", v.ID, "--anchor", "dose2=" + dose1}, common...)...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HTTP 409")

	_, err = runProgram(t, "show", v.ID, "--central", c.URL())
	require.Error(t, err, "no token")
	_, err = runProgram(t, append([]string{"enrol", "--program", "vaccination", "--mobile", "010-1234-5678",
		"--birth-date", "1948-05-17", "--anchor", "dose1"}, common...)...)
	assert.ErrorContains(t, err, `--anchor "dose1": want NAME=VALUE`)
}
