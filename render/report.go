package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/wsdissect/wsdissect/dissect"
)

// Input holds the counts of a run that its records cannot tell: what was
// read and decoded before any record was made. The caller fills it in from
// the engine's statistics and hands it to Stats.AddInput.
type Input struct {
	// Files is the number of captures read (0 for a live capture).
	Files uint64
	// Packets counts the packets read; TCP those that decoded to TCP;
	// Malformed those whose headers were damaged; UnsupportedLink those of
	// a link type that cannot be decoded, UnsupportedLinkType the first such
	// link type.
	Packets, TCP, Malformed, UnsupportedLink uint64
	UnsupportedLinkType                      uint32
	// Decapsulated counts the TCP packets found inside tunnels or other
	// encapsulations; Defragmented those reassembled from IP fragments,
	// FragmentsDropped the IP fragments whose datagram never completed.
	Decapsulated, Defragmented, FragmentsDropped uint64
	// MessagesOnly is set when the run made message records only
	// (--messages): frames were not counted, and the statistics say so
	// instead of showing 0.
	MessagesOnly bool
}

// AddInput adds in to the input counts of s (several files add up).
func (s *Stats) AddInput(in Input) {
	s.hasInput = true
	s.input.Files += in.Files
	s.input.Packets += in.Packets
	s.input.TCP += in.TCP
	s.input.Malformed += in.Malformed
	s.input.Decapsulated += in.Decapsulated
	s.input.Defragmented += in.Defragmented
	s.input.FragmentsDropped += in.FragmentsDropped
	if s.input.UnsupportedLink == 0 {
		s.input.UnsupportedLinkType = in.UnsupportedLinkType
	}
	s.input.UnsupportedLink += in.UnsupportedLink
	s.input.MessagesOnly = s.input.MessagesOnly || in.MessagesOnly
}

// SetFilter records that the record counts are of the records the filter
// expr selected (shown in the heading of the statistics).
func (s *Stats) SetFilter(expr string) { s.filter = expr }

// framesCounted reports whether frames were counted (not with --messages).
func (s *Stats) framesCounted() bool {
	return !s.input.MessagesOnly || sum(s.frames[:]) > 0
}

// appendInput appends the packets line of WriteTo.
func (s *Stats) appendInput(b []byte) []byte {
	in := &s.input
	if in.Files > 1 {
		b = append(b, "  Files:         "...)
		b = strconv.AppendUint(b, in.Files, 10)
		b = append(b, '\n')
	}
	b = append(b, "  Packets:       "...)
	b = strconv.AppendUint(b, in.Packets, 10)
	b = append(b, " ("...)
	b = strconv.AppendUint(b, in.TCP, 10)
	b = append(b, " TCP, "...)
	if in.Decapsulated > 0 {
		b = strconv.AppendUint(b, in.Decapsulated, 10)
		b = append(b, " of them in tunnels, "...)
	}
	if in.Defragmented > 0 {
		b = strconv.AppendUint(b, in.Defragmented, 10)
		b = append(b, " reassembled from IP fragments, "...)
	}
	if in.FragmentsDropped > 0 {
		b = strconv.AppendUint(b, in.FragmentsDropped, 10)
		b = append(b, " IP fragments never completed, "...)
	}
	b = strconv.AppendUint(b, in.Malformed, 10)
	b = append(b, " malformed"...)
	if in.UnsupportedLink > 0 {
		b = append(b, ", "...)
		b = strconv.AppendUint(b, in.UnsupportedLink, 10)
		b = append(b, " of unsupported link type "...)
		b = strconv.AppendUint(b, uint64(in.UnsupportedLinkType), 10)
	}
	return append(b, ")\n"...)
}

// StatsJSON is the JSON form of the statistics (-q --json), one object.
// Keys are documented in README.md; counts of zero are included, maps are
// omitted when empty.
type StatsJSON struct {
	Filter                 string            `json:"filter,omitempty"`
	Files                  uint64            `json:"files,omitempty"`
	Packets                uint64            `json:"packets"`
	TCPPackets             uint64            `json:"tcp_packets"`
	DecapsulatedPackets    uint64            `json:"decapsulated_packets"`
	DefragmentedPackets    uint64            `json:"defragmented_packets"`
	FragmentsDropped       uint64            `json:"fragments_dropped"`
	MalformedPackets       uint64            `json:"malformed_packets"`
	UnsupportedLinkPackets uint64            `json:"unsupported_link_packets"`
	UnsupportedLinkType    *uint32           `json:"unsupported_link_type,omitempty"`
	Connections            uint64            `json:"connections"`
	Midstream              uint64            `json:"midstream"`
	Rejected               uint64            `json:"rejected"`
	TLSNotDissected        uint64            `json:"tls_not_dissected,omitempty"`
	Frames                 *uint64           `json:"frames,omitempty"`
	FramesByOpcode         map[string]uint64 `json:"frames_by_opcode,omitempty"`
	Messages               uint64            `json:"messages"`
	MessagesByOpcode       map[string]uint64 `json:"messages_by_opcode,omitempty"`
	BytesC2S               uint64            `json:"bytes_c2s"`
	BytesS2C               uint64            `json:"bytes_s2c"`
	IncompleteMessages     uint64            `json:"incomplete_messages"`
	IncompleteFrames       uint64            `json:"incomplete_frames"`
	TruncatedMessages      uint64            `json:"truncated_messages"`
	TruncatedFrames        uint64            `json:"truncated_frames"`
	Anomalies              uint64            `json:"anomalies"`
	AnomaliesBySeverity    map[string]uint64 `json:"anomalies_by_severity,omitempty"`
	AnomaliesByID          map[string]uint64 `json:"anomalies_by_id,omitempty"`
	WireBytes              uint64            `json:"wire_bytes"`
	InflatedBytes          uint64            `json:"inflated_bytes"`
	H2Sessions             uint64            `json:"h2_sessions,omitempty"`
	H2Requests             uint64            `json:"h2_requests,omitempty"`
	MemoryLimit            int64             `json:"memory_limit,omitempty"`
	MemoryPeak             int64             `json:"memory_peak,omitempty"`
}

// JSON returns the statistics in their JSON form.
func (s *Stats) JSON() StatsJSON {
	msgs, incompleteMsgs := s.messageCounts()
	by := s.payloadBytes()
	j := StatsJSON{
		Filter:                 s.filter,
		Files:                  s.input.Files,
		Packets:                s.input.Packets,
		TCPPackets:             s.input.TCP,
		DecapsulatedPackets:    s.input.Decapsulated,
		DefragmentedPackets:    s.input.Defragmented,
		FragmentsDropped:       s.input.FragmentsDropped,
		MalformedPackets:       s.input.Malformed,
		UnsupportedLinkPackets: s.input.UnsupportedLink,
		Connections:            s.conns,
		Midstream:              s.midstream,
		Rejected:               s.rejected,
		TLSNotDissected:        s.tlsOnly,
		FramesByOpcode:         byOpcodeMap(&s.frames),
		Messages:               sum(msgs[:]),
		MessagesByOpcode:       byOpcodeMap(msgs),
		BytesC2S:               by[dissect.ClientToServer],
		BytesS2C:               by[dissect.ServerToClient],
		IncompleteMessages:     incompleteMsgs,
		IncompleteFrames:       s.incompleteFrames,
		TruncatedMessages:      s.truncatedMessages,
		TruncatedFrames:        s.truncatedFrames,
		Anomalies:              sum(s.bySeverity[:]),
		WireBytes:              s.wireBytes,
		InflatedBytes:          s.appBytes,
		H2Sessions:             s.h2Sessions,
		H2Requests:             s.h2Requests,
		MemoryLimit:            s.memLimit,
		MemoryPeak:             s.memPeak,
	}
	if s.framesCounted() {
		n := sum(s.frames[:])
		j.Frames = &n
	}
	if s.input.UnsupportedLink > 0 {
		lt := s.input.UnsupportedLinkType
		j.UnsupportedLinkType = &lt
	}
	for sev, n := range s.bySeverity {
		if n > 0 {
			if j.AnomaliesBySeverity == nil {
				j.AnomaliesBySeverity = make(map[string]uint64)
			}
			j.AnomaliesBySeverity[dissect.Severity(sev).String()] = n
		}
	}
	if len(s.anomalies) > 0 {
		j.AnomaliesByID = make(map[string]uint64, len(s.anomalies))
		for id, c := range s.anomalies {
			j.AnomaliesByID[id] = c.n
		}
	}
	return j
}

// WriteJSON writes the statistics as one JSON object and a newline.
func (s *Stats) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(s.JSON())
	if err != nil {
		return fmt.Errorf("render: encode statistics: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("render: write statistics: %w", err)
	}
	return nil
}

// byOpcodeMap returns the non-zero counts by opcode name, nil when there
// are none. Reserved opcodes are named reserved(0xN).
func byOpcodeMap(counts *[16]uint64) map[string]uint64 {
	var m map[string]uint64
	for op, n := range counts {
		if n == 0 {
			continue
		}
		if m == nil {
			m = make(map[string]uint64)
		}
		name := dissect.OpcodeName(uint8(op))
		if name == "reserved" {
			name = "reserved(0x" + string(hexDigits[op]) + ")"
		}
		m[name] += n
	}
	return m
}
