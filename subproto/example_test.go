package subproto_test

import (
	"fmt"
	"time"

	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/app"
)

// A connection's decoder is made when its handshake is known and fed each
// complete data message in capture order.
func Example() {
	c := subproto.New(subproto.Config{Subprotocol: "", URL: "/socket.io/?EIO=4&transport=websocket"})
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	msgs := []app.Message{
		{Dir: app.ServerToClient, Opcode: app.Text, Payload: []byte(`0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`), Time: t0},
		{Dir: app.ClientToServer, Opcode: app.Text, Payload: []byte(`42/chat,["message","hi"]`), Time: t0},
		{Dir: app.ClientToServer, Opcode: app.Text, Payload: []byte(`42/chat,["oops"`), Time: t0},
	}
	for _, m := range msgs {
		for _, r := range c.Decode(m) {
			fmt.Println(app.Summary(r))
			fmt.Printf("  %q: %s\n", r.Protocol(), r.AppendJSON(nil))
			if why := r.Malformed(); why != "" {
				fmt.Println("  anomaly", subproto.Anomaly(r.Protocol()), why)
			}
		}
	}
	ch := c.Choice()
	fmt.Println(ch.Protocol, ch.Method, ch.Reason)
	for _, f := range subproto.FieldsOf(subproto.SocketIO) {
		if f.Name == "socketio.event" {
			fmt.Println(f.Name, f.Kind, f.Desc)
		}
	}
	// Output:
	// Engine.IO open {"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
	//   "socketio": {"eio":"open","eio_version":4,"sid":"s1","data":{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}
	// Socket.IO EVENT /chat "message" ["hi"]
	//   "socketio": {"eio":"message","eio_version":4,"sid":"s1","type":"EVENT","namespace":"/chat","event":"message","args":["hi"]}
	// Socket.IO EVENT /chat [malformed: payload is not JSON]
	//   "socketio": {"eio":"message","eio_version":4,"sid":"s1","type":"EVENT","namespace":"/chat","payload":"[\"oops\"","malformed":"payload is not JSON"}
	//   anomaly socketio-malformed payload is not JSON
	// socketio url URL /socket.io/?EIO=4&transport=websocket
	// socketio.event string event name of EVENT and BINARY_EVENT
}
