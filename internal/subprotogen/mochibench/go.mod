module github.com/wsdissect/wsdissect/internal/subprotogen/mochibench

go 1.26.0

require (
	github.com/mochi-mqtt/server/v2 v2.7.9
	github.com/wsdissect/wsdissect v0.0.0
)

replace github.com/wsdissect/wsdissect => ../../..
