import IPCWire
import CSystemShims
