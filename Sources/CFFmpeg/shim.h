#ifndef RENDC_CFFMPEG_SHIM_H
#define RENDC_CFFMPEG_SHIM_H
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersrc.h>
#include <libavfilter/buffersink.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/channel_layout.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/display.h>
#include <libavutil/error.h>

/* Macros Swift cannot import. */
static inline int rendc_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int rendc_averror_eof(void) { return AVERROR_EOF; }
static inline int rendc_averror_enomem(void) { return AVERROR(ENOMEM); }
static inline int rendc_averror_einval(void) { return AVERROR(EINVAL); }
static inline int rendc_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int64_t rendc_av_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational rendc_av_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int rendc_av_time_base(void) { return AV_TIME_BASE; }
static inline const char *rendc_av_err2str(int err, char *buf, size_t size) {
    av_strerror(err, buf, size);
    return buf;
}
#endif
