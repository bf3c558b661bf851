import Foundation
import LibAV
import MediaFormats

// The backend's libav* work goes through LibAV, the one wrapper over libavformat/libavcodec/libswscale/
// libswresample/libavfilter. These names keep the compositor's code reading as before.

/// A failure in the backend, naming the input or stage that failed, and whether it is permanent (bad input).
public typealias BackendError = MediaError

typealias AVFrameBox = Frame
typealias MediaInputFile = MediaInput
