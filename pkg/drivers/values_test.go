package drivers

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const secretValue = "tv-values-7f3a9c-do-not-print"

func TestValuesNeverPrint(t *testing.T) {
	t.Parallel()
	v := NewValues(map[string]string{"API_KEY": secretValue})
	type holder struct {
		Name   string
		Values Values
		Ptr    *Values
	}
	h := holder{Name: "openai", Values: v, Ptr: &v}
	var outs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
		outs = append(outs, fmt.Sprintf(f, v), fmt.Sprintf(f, h), fmt.Sprintf(f, []Values{v}), fmt.Sprintf(f, map[string]Values{"k": v}))
	}
	outs = append(outs, fmt.Sprint(v), fmt.Sprintln(v), v.String(), v.GoString())
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(b))
	var buf strings.Builder
	for _, hd := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(hd).Info("write", "values", v, "holder", h)
	}
	outs = append(outs, buf.String())
	err = fmt.Errorf("put %v: %w", v, errors.New("boom"))
	outs = append(outs, err.Error())
	for _, s := range outs {
		if strings.Contains(s, secretValue) || strings.Contains(s, fmt.Sprintf("%x", secretValue)) {
			t.Fatalf("a formatting of Values printed the value: %q", s)
		}
	}
	if !strings.Contains(fmt.Sprintf("%v", v), "(sensitive)") || !strings.Contains(string(b), `"(sensitive)"`) {
		t.Fatal("Values do not say (sensitive)")
	}
}

func TestValuesAccessors(t *testing.T) {
	t.Parallel()
	src := map[string]string{"B": "2", "A": "1", "EMPTY": ""}
	v := NewValues(src)
	src["A"] = "changed"
	if got, _ := v.Get("A"); got != "1" {
		t.Fatal("NewValues did not copy its input")
	}
	if k := v.Keys(); strings.Join(k, ",") != "A,B,EMPTY" || v.Len() != 3 {
		t.Fatalf("Keys %q Len %d", k, v.Len())
	}
	if s, ok := v.Get("EMPTY"); !ok || s != "" {
		t.Fatal("an empty value is a present key")
	}
	if _, ok := v.Get("missing"); ok {
		t.Fatal("missing key reported present")
	}
	m := v.Map()
	m["B"] = "x"
	if got, _ := v.Get("B"); got != "2" {
		t.Fatal("Map does not return a copy")
	}
	if !v.Equal(NewValues(map[string]string{"A": "1", "B": "2", "EMPTY": ""})) || v.Equal(NewValues(map[string]string{"A": "1"})) {
		t.Fatal("Equal")
	}
	var zero Values
	if zero.Len() != 0 || len(zero.Keys()) != 0 || !zero.Equal(NewValues(nil)) {
		t.Fatal("the zero Values is not empty")
	}
}
