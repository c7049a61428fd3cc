import Recorder
import TestSupport

extension BuiltProducts {
    static let fixture: String? = executable("PreloadFixture")

    /// Found the way the recorder finds it.
    static let preloadLibrary: String? = PreloadLibrary.locate()
}
