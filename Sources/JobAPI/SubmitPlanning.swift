import Foundation
import Planner
import SpecLang

/// Submit plans the job as the worker will, with what submit knows, so a job the planner refuses (a counted field
/// with no number in it, a counter without `duration` that makes too many texts in a video this long, a required
/// field the template declares) is a 422 now rather than a job that fails in the worker. The planner is pure: it
/// is given stand-in names for the files (the message never names a path) and never reads them.
///
/// What submit cannot know is taken so that a job is refused only when it fails whatever it is: no beats (the
/// planner's fallback grid), the template's own assets present (a missing one is the deployment's fault, not the
/// client's), and, when the video's length follows the music (an `audioFile` without `durationTarget`), a track as
/// long as the video may be and the shortest one too: refused when both fail.
enum SubmitPlanning {
    /// A track longer than any video or set start: the video takes the template's whole length.
    static let longTrackSeconds = 86_400.0
    /// The shortest track whose length the video follows (a shorter one gets the template's length).
    static let shortTrackSeconds = 0.5

    /// The planner's error for this job, or nil when it plans. `clips` are the indexes of `job.imageIds` that are
    /// video assets.
    static func problem(_ job: JobSubmission, template: Template, clips: Set<Int>, maxDuration: Double) -> PlanError? {
        if case .failure(let error) = planned(job, template: template, clips: clips, maxDuration: maxDuration) { return error }
        return nil
    }

    /// The job planned as the worker may plan it: the plan (whose texts submit measures; their boxes do not depend
    /// on the music), or the planner's error when it fails whatever the track is.
    static func planned(_ job: JobSubmission, template: Template, clips: Set<Int>, maxDuration: Double) -> Result<RenderPlan?, PlanError> {
        func plan(track seconds: Double?) -> Result<RenderPlan?, PlanError> {
            do {
                return .success(
                    try Planner.plan(template: template, inputs: planInputs(job, clips: clips, maxDuration: maxDuration, track: seconds)) { _ in
                        "template-asset"
                    })
            } catch let error as PlanError {
                return .failure(error)
            } catch {
                // The planner throws only PlanError; anything else is not the request's fault.
                return .success(nil)
            }
        }
        guard job.audioAssetId != nil else { return plan(track: nil) }
        let long = plan(track: longTrackSeconds)
        guard case .failure = long else { return long }
        if job.durationTarget == nil, case .success(let short) = plan(track: shortTrackSeconds) { return .success(short) }
        return long
    }

    /// The planner's inputs for the job: stand-in names for its files, and a track of `seconds` (nil: no music).
    static func planInputs(_ job: JobSubmission, clips: Set<Int>, maxDuration: Double, track seconds: Double?) -> PlanInputs {
        let images = job.imageIds.indices.map { "image-\($0 + 1)" }
        var fields = job.fieldTexts
        for name in job.fieldAssets.keys { fields[name] = "field-\(name)" }
        return PlanInputs(
            images: images, audio: seconds.map { AudioInput(path: "audio", duration: $0) }, text: job.textOverlay, fields: fields,
            duration: job.durationTarget, quality: job.qualityMode, beats: nil, maxDuration: maxDuration,
            clips: Set(clips.map { images[$0] }),
            voice: job.voiceAssetId.map { _ in VoiceInput(path: "voice", duration: 1, speech: []) })
    }

    /// What the store is told of texts the render will cut, one warning a text, in the request's words (its fields),
    /// not the designer's (the plan's note says what the template could change). The counts are the whole text's as
    /// drawn: the fields' values with any words the template puts around them.
    static func warnings(_ cuts: [FieldCut], template: String) -> [SubmitWarning] {
        cuts.compactMap { cut in
            let fields = cut.fields.map { $0 == Template.captionField ? "textOverlay" : "fields.\($0)" }
            guard let field = fields.first else { return nil }
            let which = fields.count == 1 ? "this text" : "the text made of " + fields.joined(separator: " and ")
            return SubmitWarning(
                code: "text_cut", field: field,
                message:
                    "the template \(template) shows \(cut.shownCharacters) of the \(cut.text.count) characters of \(which) at its smallest size; "
                    + "the rest is cut\(cut.ellipsis ? " with \"…\"" : ""): shorten it to show all of it",
                shownCharacters: cut.shownCharacters, totalCharacters: cut.text.count)
        }
    }

    /// The request field a plan error is about (nil when the template, not one value, meets the job's inputs).
    static func requestField(_ error: PlanError) -> String? {
        switch error.field {
        case "images": "imageIds"
        case "duration": "durationTarget"
        case "text": "textOverlay"
        case let field where field.hasPrefix("fields."): field
        default: nil
        }
    }
}
