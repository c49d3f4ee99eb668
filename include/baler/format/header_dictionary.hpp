#pragma once
// The JSON header of a small file costs more than its data: a 50 x 50 field codes into ~400
// bytes, and its header, ~400 bytes of keys, compresses alone to ~290. Compressed against this
// text (a zstd raw-content dictionary of the keys and values headers repeat), it takes ~80.
//
// Frozen: files written with it (container header flag 2) are read with exactly these bytes.
// A different text needs a new flag, as version 2 below has.
#include <string_view>

namespace baler::format {

constexpr std::string_view header_dictionary_v1 =
    R"({"columns":[{"integer":false,"max":1.0,"min":0.0,"name":"px","treatment":"model"},)"
    R"({"encoding":"i8","max":1.0,"min":-1.0,"name":"charge","treatment":"lossless"},)"
    R"({"encoding":"i32","name":"run","treatment":"constant","value":0},)"
    R"({"code":{"bound":0.0,"kind":"abs","step":1.0},"name":"event","predictor":{"coder":"context",)"
    R"("exceptions":0,"kind":"previous","offset":0,"value":0},"treatment":"bounded"},)"
    R"({"code":{"bound":0.1,"kind":"rel","per_octave":5},"name":"pt","predictor":{"alpha":1.0,"beta":0.0,)"
    R"("check":0,"coder":"context","exceptions":0,"f":"hypot","inputs":[1,2],"kind":"formula","offset":0,)"
    R"("partner":{"column":1,"edges":[-1.0,0.0,1.0]}},"treatment":"bounded"},)"
    R"({"code":{"bound":0.1,"kind":"abs","step":0.2},"name":"eta","predictor":{"coder":"context","exceptions":0,)"
    R"("kind":"relation","offset":0},"treatment":"bounded"},)"
    R"({"code":{"bound":0.1,"kind":"abs","step":0.2},"name":"m","predictor":{"coder":"zstd","exceptions":0,)"
    R"("kind":"codes","min":0,"offset":0,"width":1},"treatment":"bounded"},)"
    R"({"code":{"bound":0.1,"kind":"abs","step":0.2},"name":"phi","predictor":{"coder":"context","exceptions":0,)"
    R"("kind":"constant","offset":0,"value":0},"treatment":"bounded"}],)"
    R"("error_bound":{"layout":"table","order":[0,1,2,3]},)"
    R"("input":{"dtype":"float32","names":["px","py","pz","E"],"nbytes":0,"shape":[0,4]},)"
    R"("kind":"baler.compressed","latent":{"cols":0,"dtype":"f16","rows":0},)"
    R"("library_version":"0.1.0","model":{"embedded":true,"id":0}})"
    R"({"columns":[],"error_bound":{"bound":"range:0.001","code":{"bound":0.001,"kind":"abs","step":0.002},)"
    R"("exceptions":0,"layout":"field","predictor":{"coder":"context","exceptions":0,"kind":"interpolation",)"
    R"("method":"cubic","offset":0}},"input":{"dtype":"float64","names":[],"nbytes":0,"shape":[1,0,0]},)"
    R"("kind":"baler.compressed","library_version":"0.1.0"})"
    R"({"columns":[],"error_bound":{"bound":"range:0.01","code":{"bound":0.0001,"kind":"abs","step":0.0002},)"
    R"("exceptions":0,"layout":"field","predictor":{"coder":"context","exceptions":0,"kind":"causal","offset":0,)"
    R"("weights":[0,0,0,0,0,0,0,0,0,0,0]}},"input":{"dtype":"float32","names":[],"nbytes":0,"shape":[0,0]},)"
    R"("kind":"baler.compressed","library_version":"0.1.0"})";

// Version 2 (header flag 4) is version 1 followed by this: the keys of the predictors and
// coders added since (histogram, context_signed, context_phased, causal_deep, neighbourhood),
// which a small field's header otherwise spells out, ~30 bytes of a ~90-byte header. Frozen too.
constexpr std::string_view header_dictionary_v2_tail =
    R"({"columns":[{"code":{"bound":0.001,"kind":"abs","step":0.002},"name":"pt","predictor":{"coder":"tree",)"
    R"("depth":6,"exceptions":0,"kind":"histogram","min":-100,"offset":0,"width":8},"treatment":"bounded"},)"
    R"({"code":{"bound":0.01,"kind":"abs","step":0.02},"name":"eta","predictor":{"coder":"context_signed",)"
    R"("exceptions":0,"kind":"constant","offset":0,"partner":{"column":0,"edges":[-1.5,-0.5,0.5,1.5]},"value":0},)"
    R"("treatment":"bounded"}],"error_bound":{"layout":"table","order":[0,1]},)"
    R"("input":{"dtype":"float64","names":["pt","eta"],"nbytes":0,"shape":[0,2]},)"
    R"("kind":"baler.compressed","library_version":"0.1.0"})"
    R"({"columns":[],"error_bound":{"bound":"range:0.0001","code":{"bound":1.0e-05,"kind":"abs","step":2.0e-05},)"
    R"("exceptions":0,"layout":"field","predictor":{"coder":"context","exceptions":0,"kind":"lorenzo",)"
    R"("neighbourhood":"wide","offset":0}},"input":{"dtype":"float64","names":[],"nbytes":0,"shape":[1,0,0]},)"
    R"("kind":"baler.compressed","library_version":"0.1.0"})"
    R"({"columns":[],"error_bound":{"bound":"range:0.01","code":{"bound":0.001,"kind":"abs","step":0.002},)"
    R"("exceptions":0,"layout":"field","predictor":{"coder":"context_phased","exceptions":0,"kind":"causal_deep",)"
    R"("neighbourhood":"wide","offset":0,"weights":[40000,30000,-10000,5000,10000,-5000,0,0,0,0,0,0,0,0,0,0,0]}},)"
    R"("input":{"dtype":"float32","names":[],"nbytes":0,"shape":[0,0,0]},"kind":"baler.compressed",)"
    R"("library_version":"0.1.0"})";

}  // namespace baler::format
