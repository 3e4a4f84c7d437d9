// libmosquitto (Debian libmosquitto-dev): the MQTT client library under MQTTIngest.
#include <mosquitto.h>
#include <mqtt_protocol.h>
