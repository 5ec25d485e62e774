// Package reassembly rebuilds both byte streams of every TCP connection from
// captured segments, in order, with explicit gaps and bounded memory.
package reassembly

import (
	"net/netip"
	"time"

	"github.com/wsdissect/wsdissect/netpkt"
)

// Side names one of the two endpoints of a connection. SideA is the endpoint
// that sent the SYN (without ACK) when the handshake was seen, otherwise the
// source of the first packet seen; SideB is the other.
type Side uint8

const (
	// SideA is the connection's initiator (or first sender seen).
	SideA Side = 0
	// SideB is the other endpoint.
	SideB Side = 1
)

// Other returns the opposite side.
func (s Side) Other() Side { return s ^ 1 }

// ConnInfo identifies a connection to its handler. It stays valid and constant
// for the connection's lifetime.
type ConnInfo struct {
	// Stream numbers connections from 0 in order of first packet, like
	// Wireshark's tcp.stream.
	Stream uint64
	// Addr holds the endpoints, indexed by Side.
	Addr [2]netip.AddrPort
	// SawSYN is true when the connection's opening SYN (from SideA) was seen.
	SawSYN bool
	// FirstPacket and FirstTime are the connection's first packet.
	FirstPacket uint64
	FirstTime   time.Time
	// Tunnel is the outermost encapsulation (VXLAN, GRE...) the
	// connection's first packet came in, netpkt.TunnelNone for none;
	// TunnelID its identifier (VNI, key...) when HasTunnelID.
	Tunnel      netpkt.Tunnel
	HasTunnelID bool
	TunnelID    uint32
	// Evicted is true when the connection continues one that was evicted
	// from the full connection table (Config.MaxConns): its earlier packets
	// were decoded under another stream number, and their state is lost.
	Evicted bool
}

// Chunk is a run of in-order bytes of one direction. Data is only valid during
// the Handler call that receives it.
type Chunk struct {
	// Data are the bytes.
	Data []byte
	// Offset is the position of Data[0] in the direction's byte stream; the
	// first byte after the SYN (or the first byte seen) is offset 0.
	Offset uint64
	// Packet is the number of the packet that carried the bytes; Time its
	// capture time.
	Packet uint64
	Time   time.Time
}

// Gap reports bytes of one direction that are missing from the capture.
type Gap struct {
	// Offset is the stream offset of the first missing byte; Len is how many
	// bytes are missing (the stream resumes at Offset+Len).
	Offset, Len uint64
	// Packet and Time are of the packet that carried the bytes (or FIN)
	// right after the missing ones, when the capture has it (where the
	// loss shows, as tshark's "previous segment not captured"), else of
	// the packet being processed when the gap was declared.
	Packet uint64
	Time   time.Time
	// Reason says why the gap was declared (buffer cap reached, peer
	// acknowledged unseen data, connection ended, snap length, ...).
	Reason string
	// Unsized is set by layers above TCP (TLS) whose lost plaintext has no
	// known length: Len is then only an estimate, and a decoder must not
	// skip Len bytes of a payload whose length it knows.
	Unsized bool
}

// NoteKind classifies a Note.
type NoteKind uint8

const (
	// NoteRetransmitDiffers is a retransmission or overlap whose bytes differ
	// from the first copy (the first copy is kept).
	NoteRetransmitDiffers NoteKind = iota + 1
	// NoteFIN is a FIN from that side.
	NoteFIN
	// NoteRST is a RST from that side.
	NoteRST
	// NoteOutOfWindow is a segment of that side starting far beyond the
	// receiver's advertised window (Offset, Len); it was ignored. Only the
	// first of a side is noted; Stats.OutOfWindow counts them all.
	NoteOutOfWindow
	// NoteEvicted tells, just before Close(ClosedEvicted), that the
	// connection is dropped because the connection table is full (Packet
	// and Time are of the packet that needed the room); Side is SideA.
	NoteEvicted
	// NoteHole tells that bytes of that side arrived after a hole (Offset
	// and Len: the missing bytes; Packet and Time: the packet after it).
	// They wait, as do any later ones, until the hole is filled or
	// declared lost (a Gap); a handler keeping a connection's output in
	// packet order can hold the other side's meanwhile, until NoteHoleDone.
	NoteHole
	// NoteHoleDone tells that no bytes of that side wait any more: the
	// last of them are delivered right after the note.
	NoteHoleDone
)

// Note reports a TCP-level event worth showing to the user.
type Note struct {
	Kind NoteKind
	// Offset and Len locate the affected bytes, where that applies.
	Offset, Len uint64
	// Packet and Time are of the packet that caused the note.
	Packet uint64
	Time   time.Time
}

// CloseReason says why a connection's handler is closed.
type CloseReason uint8

const (
	// ClosedFIN: both sides sent FIN (or one FIN and the stream went quiet).
	ClosedFIN CloseReason = iota + 1
	// ClosedRST: a RST ended the connection.
	ClosedRST
	// ClosedIdle: no packet for longer than the idle timeout (capture time).
	ClosedIdle
	// ClosedEvicted: the connection table was full.
	ClosedEvicted
	// ClosedEOF: the input ended.
	ClosedEOF
	// ClosedReused: a new connection (new SYN) reused the same addresses.
	ClosedReused
	// ClosedMemory: the memory budget (Config.Memory) was exhausted and the
	// connection was the least recently active; later packets of it start
	// a new connection.
	ClosedMemory
)

// Handler consumes the two byte streams of one connection. Calls for one
// connection are never concurrent.
type Handler interface {
	// Data delivers in-order bytes of one side. Returning false tells the
	// assembler the handler wants no more data of this connection: buffers are
	// freed and later segments are only counted.
	Data(side Side, c *Chunk) bool
	// Gap reports missing bytes; the next Data for that side starts after them.
	Gap(side Side, g *Gap)
	// Note reports TCP events (FIN, RST, differing retransmissions).
	Note(side Side, n *Note)
	// Close is the last call: everything deliverable has been delivered.
	Close(reason CloseReason)
}

// Factory makes a Handler for each new connection.
type Factory interface {
	NewConn(info *ConnInfo) Handler
}
