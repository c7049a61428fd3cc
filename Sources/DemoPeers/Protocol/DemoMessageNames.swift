/// The messages of one demo endpoint that the peers send or handle, by their schema names. Ids and magics
/// are never written here: ``DemoEndpointTable`` looks each name up in the parsed `.ipc` files.
public protocol DemoMessageName: RawRepresentable, CaseIterable, Hashable, Sendable where RawValue == String {
    /// The endpoint name in the schema (its magic is `string_hash` of it).
    static var endpointName: String { get }
    /// This endpoint's table inside a loaded protocol.
    static func table(in demoProtocol: DemoProtocol) -> DemoEndpointTable<Self>
}

/// UI → WebContent.
public enum WebContentServerMessage: String, DemoMessageName {
    public static let endpointName = "DemoWebContentServer"
    public static func table(in demoProtocol: DemoProtocol) -> DemoEndpointTable<Self> { demoProtocol.webContentServer }

    case connectToRequestServer = "connect_to_request_server"
    case setLogSink = "set_log_sink"
    case loadURL = "load_url"
    case loadHTML = "load_html"
    case setViewport = "set_viewport"
    case setPreferredColorScheme = "set_preferred_color_scheme"
    case mouseEvent = "mouse_event"
    case keyEvent = "key_event"
    case setZoom = "set_zoom"
    case getTitle = "get_title"
    case getSelectedText = "get_selected_text"
    case runJavaScript = "run_javascript"
    case takeMessagePort = "take_message_port"
    case setCookies = "set_cookies"
    case setProxy = "set_proxy"
    case inspectDOM = "inspect_dom"
    case ping = "ping"
    case closePage = "close_page"
}

/// WebContent → UI.
public enum WebContentClientMessage: String, DemoMessageName {
    public static let endpointName = "DemoWebContentClient"
    public static func table(in demoProtocol: DemoProtocol) -> DemoEndpointTable<Self> { demoProtocol.webContentClient }

    case didStartLoading = "did_start_loading"
    case didFinishLoading = "did_finish_loading"
    case didChangeTitle = "did_change_title"
    case didChangeURL = "did_change_url"
    case didChangeOrigin = "did_change_origin"
    case didPaint = "did_paint"
    case didInvalidate = "did_invalidate"
    case didChangeThemeColor = "did_change_theme_color"
    case didScroll = "did_scroll"
    case didOutputConsoleMessage = "did_output_console_message"
    case didRequestAlert = "did_request_alert"
    case didRequestConfirm = "did_request_confirm"
    case didRequestCookie = "did_request_cookie"
    case didMeasure = "did_measure"
    case didStartWorker = "did_start_worker"
}

/// UI and WebContent → RequestServer.
public enum RequestServerMessage: String, DemoMessageName {
    public static let endpointName = "DemoRequestServer"
    public static func table(in demoProtocol: DemoProtocol) -> DemoEndpointTable<Self> { demoProtocol.requestServer }

    case connectNewClient = "connect_new_client"
    case isSupportedProtocol = "is_supported_protocol"
    case startRequest = "start_request"
    case startRequestWithCacheMode = "start_request_with_cache_mode"
    case stopRequest = "stop_request"
    case ensureConnection = "ensure_connection"
    case resolveHost = "resolve_host"
    case setDNSServer = "set_dns_server"
    case clearCache = "clear_cache"
    case getCacheSize = "get_cache_size"
    case setDownloadLimit = "set_download_limit"
    case websocketConnect = "websocket_connect"
    case websocketSend = "websocket_send"
    case websocketClose = "websocket_close"
}

/// RequestServer → its clients (UI on the main connection, WebContent on its own).
public enum RequestClientMessage: String, DemoMessageName {
    public static let endpointName = "DemoRequestClient"
    public static func table(in demoProtocol: DemoProtocol) -> DemoEndpointTable<Self> { demoProtocol.requestClient }

    case requestStarted = "request_started"
    case headersBecameAvailable = "headers_became_available"
    case requestProgress = "request_progress"
    case requestFinished = "request_finished"
    case certificateRequested = "certificate_requested"
    case websocketConnected = "websocket_connected"
    case websocketReceived = "websocket_received"
    case websocketStateChanged = "websocket_state_changed"
    case websocketClosed = "websocket_closed"
    case cacheSizeChanged = "cache_size_changed"
}
