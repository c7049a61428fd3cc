// IPCTransport's API throws SystemSupport's `SystemError` and hands out its `OSThread`: re-exported so
// that its users see them without a second import.
@_exported import SystemSupport
