package app

import "testing"

func TestOneLine(t *testing.T) {
	var got []string
	emit := OneLine(func(_ int, name, value string) { got = append(got, name+"="+value) })
	emit(0, "plain", "é ok")
	emit(0, "ctl\n", "a\r\nb\tc\x00\x7f")
	want := []string{"plain=é ok", `ctl\n=a\r\nb\tc\x00\x7f`}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %q, want %q", i, got[i], want[i])
		}
	}
}

func TestDirAndKind(t *testing.T) {
	if ClientToServer.String() != "c2s" || ServerToClient.String() != "s2c" {
		t.Error("Dir.String")
	}
	if Signed(-5).Int() != -5 || Flag(true).N != 1 || Flag(false).N != 0 {
		t.Error("Value helpers")
	}
	for k, s := range map[Kind]string{String: "string", Uint: "uint", Bool: "bool", Bytes: "bytes", Duration: "duration", Int: "int"} {
		if k.String() != s {
			t.Errorf("%d: %s", k, k.String())
		}
	}
}
