package attach

import (
	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/socketio"
)

// maxPolls bounds the long-polling sessions whose decoder is kept; past it
// they start afresh (an attachment split over two polls is then lost).
const maxPolls = 4096

// poll is the decoder of a long-polling session and what it holds.
type poll struct {
	dec     *socketio.Decoder
	charged int64 // what the memory budget holds for its state
}

// KeepHTTP selects the plain HTTP requests whose exchanges the sink
// decodes, for dissect.Options.KeepHTTP: Engine.IO long-polling
// (transport=polling in the target).
func KeepHTTP(method, target string) bool {
	if method != "GET" && method != "POST" {
		return false
	}
	info, ok := socketio.ParseURL(target)
	return ok && info.Transport == "polling"
}

// polling decodes the Engine.IO packets of a long-polling exchange: a
// POST's request body (client to server) or a GET's response body (server
// to client), with one decoder per session id so that the session's state
// (version, attachments) carries over from poll to poll. The first GET,
// without a sid, is the handshake: its open packet names the session.
func (s *Sink) polling(r *dissect.Record) error {
	x := r.HTTP
	info, ok := socketio.ParseURL(x.Target)
	if !ok || info.Transport != "polling" || s.force != "" && s.force != subproto.SocketIO || x.Status/100 != 2 {
		return s.next.Emit(r)
	}
	dir, body := app.ServerToClient, x.ResponseBody
	if x.Method == "POST" {
		dir, body = app.ClientToServer, x.RequestBody
	}
	if len(body) == 0 {
		return s.next.Emit(r)
	}
	p := s.polls[info.SID]
	if p == nil || info.SID == "" {
		p = &poll{dec: socketio.NewDecoder(info.EIO)}
		p.dec.SetSID(info.SID)
	}
	d := p.dec
	recs := d.DecodePolling(dir, body)
	if sid := d.SID(); sid != "" && s.polls[sid] != p {
		if old := s.polls[sid]; old != nil {
			s.release(&old.charged)
		}
		if s.polls == nil || len(s.polls) >= maxPolls {
			for _, old := range s.polls {
				s.release(&old.charged)
			}
			s.polls = map[string]*poll{}
		}
		s.polls[sid] = p
	}
	if sid := d.SID(); sid != "" && s.polls[sid] == p {
		// Kept for the session's next poll: charged.
		recs = s.keep(&p.charged, d, d.Gap, recs)
	}
	if x.RequestTruncated && dir == app.ClientToServer || x.ResponseTruncated && dir == app.ServerToClient {
		// the end of the body is missing: what waits for it is lost
		// (Gap reuses the decoder's result slice: copy first)
		recs = append([]app.Record(nil), recs...)
		recs = append(recs, d.Gap(dir)...)
	}
	return s.attach(r, recs, nil, nil)
}
