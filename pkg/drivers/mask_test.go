package drivers

import (
	"encoding/json"
	"testing"
)

func TestMaskConfig(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", ``, ``},
		{"null", `null`, ``},
		{"empty object", `{}`, ``},
		{"nothing to mask", `{"url":"https://bao","mount":"kv"}`, `{"mount":"kv","url":"https://bao"}`},
		{"token string", `{"token":"s.abc"}`, `{"token":"(sensitive)"}`},
		{"every credential word, any case", `{"Password":"a","passwd":"b","apiKey":"c","clientKey":"d","privateKey":"e","clientSecret":"f","credentials":"g","vaultToken":"h"}`,
			`{"Password":"(sensitive)","apiKey":"(sensitive)","clientKey":"(sensitive)","clientSecret":"(sensitive)","credentials":"(sensitive)","passwd":"(sensitive)","privateKey":"(sensitive)","vaultToken":"(sensitive)"}`},
		{"numbers and booleans too", `{"pin":1,"token":12345,"secret":true}`, `{"pin":1,"secret":"(sensitive)","token":"(sensitive)"}`},
		{"nested", `{"auth":{"method":"token","token":"s.abc"}}`, `{"auth":{"method":"token","token":"(sensitive)"}}`},
		{"everything under a credential key", `{"credentials":{"user":"u","list":["a",{"x":"y"}]}}`, `{"credentials":{"list":["(sensitive)",{"x":"(sensitive)"}],"user":"(sensitive)"}}`},
		{"array under a credential key", `{"tokens":["a","b"]}`, `{"tokens":["(sensitive)","(sensitive)"]}`},
		{"references are shown", `{"auth":{"tokenSecretRef":{"name":"bao-token","key":"token"},"secretIdSecretRef":{"name":"s","key":"k"}}}`,
			`{"auth":{"secretIdSecretRef":{"key":"k","name":"s"},"tokenSecretRef":{"key":"token","name":"bao-token"}}}`},
		{"files and paths are shown", `{"tls":{"clientKeyFile":"/k.pem"},"tokenPath":"/run/token"}`, `{"tls":{"clientKeyFile":"/k.pem"},"tokenPath":"/run/token"}`},
		{"credential below a reference", `{"credentialsRef":{"token":"x","name":"n"}}`, `{"credentialsRef":{"name":"n","token":"(sensitive)"}}`},
		{"null under a credential key stays null", `{"token":null}`, `{"token":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MaskConfig(json.RawMessage(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("MaskConfig(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
	if got, err := MaskConfig(json.RawMessage(`{"token":"s.abc"`)); err == nil || got != nil {
		t.Errorf("invalid JSON: %s, %v; want an error and nothing", got, err)
	}
}
