internal import CMosquitto

/// libmosquitto wants one process-wide `mosquitto_lib_init` before its first client.
enum MosquittoLibrary {
    static let ready: Bool = {
        mosquitto_lib_init()
        return true
    }()
}
