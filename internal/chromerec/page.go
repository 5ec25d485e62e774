package chromerec

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// EchoPrefix is what the echo servers put before each text message they
// answer.
const EchoPrefix = "echo: "

// PageMessages returns the texts a page sends on its first WebSocket:
// "hello 1", "hello 2" and a JSON text of about 2000 bytes.
func PageMessages() []string {
	var b strings.Builder
	b.WriteString(`{"kind":"bulk","items":[`)
	for i := 0; b.Len() < 1970; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"v":"item-%03d"}`, i, i)
	}
	b.WriteString(`],"end":true}`)
	return []string{"hello 1", "hello 2", b.String()}
}

// PageSession is one WebSocket a page opens, once the previous one closed.
type PageSession struct {
	// URL is a JavaScript expression for the WebSocket URL (a quoted
	// string, or one built from location.host).
	URL string
	// Messages are sent one at a time, each after the echo of the
	// previous one; the page closes with 1000 after the last echo.
	Messages []string
	// TimeoutMS closes the WebSocket with 1000 that many milliseconds
	// after it was opened, if it is still open.
	TimeoutMS int
}

// pageScript defines log(s), which writes the console line "WSLOG " + s
// (read back by Record) and adds s to the page, and session(url, msgs, ms),
// which runs one PageSession and resolves once the WebSocket closed.
const pageScript = `function log(s) { console.log("WSLOG " + s); document.getElementById("log").textContent += s + "\n"; }
function session(url, msgs, ms) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    let i = 0;
    const got = [];
    const timer = setTimeout(() => { log(url + " timeout"); try { ws.close(1000); } catch (e) {} }, ms);
    ws.onopen = () => { log(url + " open ext=" + JSON.stringify(ws.extensions)); ws.send(msgs[i++]); };
    ws.onmessage = (e) => {
      got.push(e.data);
      if (i < msgs.length) { ws.send(msgs[i++]); } else { ws.close(1000); }
    };
    ws.onerror = () => log(url + " error");
    ws.onclose = (e) => {
      clearTimeout(timer);
      const ok = got.length === msgs.length && got.every((g, k) => g === "echo: " + msgs[k]);
      log(url + " closed code=" + e.code + " clean=" + e.wasClean + " echoes_ok=" + ok);
      resolve();
    };
  });
}
`

// Page returns an HTML page titled title, with head added to its head,
// whose script runs sessions one after the other, logging their progress,
// then logs DONE.
func Page(title, head string, sessions ...PageSession) string {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + title + "</title>" + head + "</head>\n")
	b.WriteString("<body><pre id=\"log\"></pre>\n<script>\n" + pageScript + "(async () => {\n")
	for _, s := range sessions {
		fmt.Fprintf(&b, "  await session(%s, %s, %d);\n", s.URL, jsStrings(s.Messages), s.TimeoutMS)
	}
	b.WriteString("  log(\"DONE\");\n})();\n</script></body></html>\n")
	return b.String()
}

// jsStrings returns ss as a JavaScript array literal.
func jsStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// checkScript checks that a session's messages (both directions, in
// order) carry what the page sent, want, the server's echoes of it, and a
// close with code 1000 last in each direction.
func checkScript(msgs []Message, want []string) error {
	var c2s, s2c []Message
	for _, m := range msgs {
		if m.C2S {
			c2s = append(c2s, m)
		} else {
			s2c = append(s2c, m)
		}
	}
	wantEchoes := make([]string, len(want))
	for i, w := range want {
		wantEchoes[i] = EchoPrefix + w
	}
	texts, echoes := texts(c2s), texts(s2c)
	if !slices.Equal(texts, want) || !slices.Equal(echoes, wantEchoes) || !closed1000(c2s) || !closed1000(s2c) {
		return fmt.Errorf("texts %q, echoes %q, close c2s %v s2c %v", texts, echoes, closed1000(c2s), closed1000(s2c))
	}
	return nil
}

// texts returns the payloads of the text messages of msgs.
func texts(msgs []Message) []string {
	var t []string
	for _, m := range msgs {
		if m.Opcode == capgen.OpText {
			t = append(t, string(m.Payload))
		}
	}
	return t
}

// closed1000 reports whether the last of msgs is a close with code 1000.
func closed1000(msgs []Message) bool {
	if len(msgs) == 0 {
		return false
	}
	l := msgs[len(msgs)-1]
	return l.Opcode == capgen.OpClose && len(l.Payload) >= 2 && binary.BigEndian.Uint16(l.Payload) == 1000
}

// AddSession puts one session's messages in the order they crossed (by
// Seq), checks them against the page's script (checkScript) and appends
// them to truth as WebSocket connection conn. It returns a summary of each
// message ("c2s op1/7": direction, opcode, length).
func AddSession(truth *capgen.Truth, conn int, msgs []Message, want []string) ([]string, error) {
	msgs = slices.Clone(msgs)
	slices.SortStableFunc(msgs, func(a, b Message) int { return cmp.Compare(a.Seq, b.Seq) })
	if err := checkScript(msgs, want); err != nil {
		return nil, fmt.Errorf("conn %d: %w", conn, err)
	}
	kinds := make([]string, 0, len(msgs))
	for _, m := range msgs {
		truth.Messages = append(truth.Messages, capgen.TruthMessage{Conn: conn, Dir: m.Dir(), Opcode: m.Opcode, Payload: m.Payload})
		kinds = append(kinds, fmt.Sprintf("%s op%d/%d", m.Dir(), m.Opcode, len(m.Payload)))
	}
	return kinds, nil
}
