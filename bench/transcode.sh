#!/usr/bin/env bash
# bench/transcode.sh — video transcode speed, the remux fast path and the server's memory while
# it transcodes (docs: /work/shared/specs/media.md "Targets"), in one run on this machine:
#
#   case        shuxiang                                        peer / baseline
#   ladder      `shuxiang transcode` of a 60 s 1280×720 30 fps    one `ffmpeg` command making the same
#               H.264/AAC clip with a 20 s GOP: 360p + 720p       two renditions with the same encoder
#               libx264 encoded, AAC, HLS (target ≤ 1.05 × peer)  settings and threads (split + scale →
#                                                                 2 × libx264 + 1 × aac → tee of 2 hls)
#   phone       the same of a real phone clip (Debian's           the same ffmpeg command for that clip
#               forensics-samples-files), when it can be had
#   copy 720p   ours on a 2 s-GOP copy of the clip: 720p copied,  ours on the 20 s-GOP clip (both rungs
#               360p still encoded                                encoded); target ≥ 20× faster
#   copy 360p   ours on a 640×360 2 s-GOP clip: its only rung     ours on the same content with a 20 s
#               copied (audio still encoded)                      GOP (encoded); target ≥ 20× faster;
#                                                                 `ffmpeg -c:v copy` shown as the floor
#   memory      `serve` transcoding an uploaded 10-minute          VmRSS before the upload (idle);
#               1280×720 clip (20 s GOP, re-encoded): peak VmRSS  target: peak − idle ≤ 64 MB
#               sampled every second, with the job's progress and
#               eta_seconds (compared with the time it really took)
#
# Times are wall-clock seconds of the whole process (median of BENCH_RUNS, ours and ffmpeg
# alternating), with its CPU seconds beside them; our own "seconds" line (the transcode alone,
# without process start) is shown too. Each output is checked and printed: picture size,
# segments, bytes, video bit rate (average and the highest 2 s window), key frames.
# The peer mirrors media/transcode.c open_video_encoder(): preset veryfast, crf 23, maxrate
# 800k/2500k with bufsize 2 × maxrate, GOP and keyint_min 2 s, scenecut 0, forced IDR, a key
# frame forced every 2 s of timestamps (from the source's key frames when a rung is copied),
# default (High) profile, global headers; bicubic scaling on one thread (-filter_threads 1, as
# ours scales in its own thread); AAC 128 kb/s stereo encoded once; hls 6 s mpegts VOD.
#
# The clips are made here with the ffmpeg CLI (testsrc2; a tone over pink noise; x264 preset fast). Nothing
# of the project is built here. Environment:
#   SHUXIANG_BIN     binary (default build/shuxiang, relative to the repository root)
#   BENCH_THREADS    threads per decoder and encoder, ours and ffmpeg's (default 2)
#   BENCH_RUNS       runs of each timed case (default 3; the median is reported)
#   BENCH_CLIP_SEC   length of the generated clips in seconds (default 60)
#   BENCH_LONG_MIN   length of the clip the server transcodes, minutes; 0 = no memory case
#                    (default 10)
#   BENCH_PHONE      1 = fetch forensics-samples-files with `apt-get download` for a real phone
#                    clip, 0 = skip, or the path of a clip to use instead (default 1)
#   BENCH_AAC_CODER  the peer's AAC coder (default: the one media/transcode.c sets, else twoloop)
#   BENCH_STRICT     1 = exit 1 when a target is missed (default 0)
#   BENCH_KEEP       1 = keep the temporary directory on exit
#
# Needs ffmpeg and ffprobe (Debian: apt-get install -y ffmpeg; `make bench` installs it), curl,
# and for the phone clip apt-get, dpkg-deb and network access to a Debian mirror.
# Takes about 25 minutes on 2 idle CPUs (the 10-minute server transcode is about half of it) and
# ~2 GB in TMPDIR; everything is removed on exit, also on failure or a signal.
# shellcheck disable=SC2317 # functions run through measure() look unreachable to shellcheck
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

bin=${SHUXIANG_BIN:-build/shuxiang}
case $bin in /*) ;; *) bin="$root/$bin" ;; esac
threads=${BENCH_THREADS:-2}
runs=${BENCH_RUNS:-3}
clip_sec=${BENCH_CLIP_SEC:-60}
long_min=${BENCH_LONG_MIN:-10}
phone=${BENCH_PHONE:-1}
strict=${BENCH_STRICT:-0}
keep=${BENCH_KEEP:-0}

# Targets (media.md)
target_ratio=1.05 # ours ÷ ffmpeg, wall time, at most
target_copy=20    # transcode ÷ remux, wall time, at least
target_mem=64     # MiB of VmRSS above idle while the server transcodes, at most

# The AAC coder the peer uses: the one media/transcode.c sets (FFmpeg's default, twoloop, when it
# sets none), so that both encode the audio the same way; BENCH_AAC_CODER overrides.
aac_coder=${BENCH_AAC_CODER:-$(sed -n 's/.*"aac_coder", *"\([a-z]*\)".*/\1/p' "$root/media/transcode.c" 2>/dev/null | head -n 1)}
aac_coder=${aac_coder:-twoloop}
[[ $aac_coder =~ ^(anmr|twoloop|fast)$ ]] || die "BENCH_AAC_CODER must be anmr, twoloop or fast (got '$aac_coder')"

# The ladder as media/transcode.c has it: rung name → maxrate (bit/s).
declare -A rung_max=([360p]=800000 [720p]=2500000)

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for v in "$threads" "$runs" "$clip_sec" "$long_min"; do
	[[ $v =~ ^[0-9]+$ ]] || die "BENCH_THREADS, BENCH_RUNS, BENCH_CLIP_SEC and BENCH_LONG_MIN must be whole numbers (got '$v')"
done
((threads >= 1 && threads <= 64)) || die "BENCH_THREADS must be 1..64"
((runs >= 1 && runs <= 20)) || die "BENCH_RUNS must be 1..20"
((clip_sec >= 10 && clip_sec <= 3600)) || die "BENCH_CLIP_SEC must be 10..3600"
((long_min <= 120)) || die "BENCH_LONG_MIN must be 0..120"

# ---------------------------------------------------------------- tools
need_install=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need_install+=(ffmpeg)
command -v curl >/dev/null 2>&1 || need_install+=(curl)
if ((${#need_install[@]})); then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		log "installing ${need_install[*]}"
		apt-get install -y "${need_install[@]}" >/dev/null ||
			{ apt-get update >/dev/null && apt-get install -y "${need_install[@]}" >/dev/null; } ||
			die "could not install ${need_install[*]}"
	else
		die "missing ${need_install[*]}: run 'sudo apt-get install -y ${need_install[*]}' (or 'make bench')"
	fi
fi
[[ -x $bin ]] || die "binary '$bin' not found or not executable: build it first (make) or set SHUXIANG_BIN"
"$bin" transcode --help 2>&1 | grep -q -- '--threads' ||
	die "'$bin transcode --help' does not offer --threads: too old a binary?"

# ---------------------------------------------------------------- cleanup
tmp=
sx_pid=
child_pid=

# shellcheck disable=SC2317 # invoked through trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $child_pid ]]; then
		# GNU time does not pass SIGTERM on: stop what it runs first.
		for p in $(pgrep -P "$child_pid" 2>/dev/null || true); do
			stop_pid "$p" "child of ${child_cmd:-child}"
		done
		stop_pid "$child_pid" "$(basename "${child_cmd:-child}")"
	fi
	stop_pid "$sx_pid" shuxiang
	remove_tmp "$rc"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_start=$EPOCHREALTIME
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuxiang-transcode-bench.XXXXXX")
# The tee muxer's option syntax takes ':', '|', '[', ']', '\' and quotes as its own.
case $tmp in
*[][:\|\\\'\"]*) die "TMPDIR path '$tmp' has a character the tee muxer cannot take" ;;
esac
ncpu=$(nproc 2>/dev/null || echo 2)

# run CMD...: in the background, so that a signal stops it (cleanup) instead of waiting for it.
child_cmd=
run() {
	local rc=0
	child_cmd=$1
	"$@" </dev/null &
	child_pid=$!
	wait "$child_pid" || rc=$?
	child_pid=
	return "$rc"
}

# ---------------------------------------------------------------- measuring
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

disturbed=()
note_other() { # case
	if calc "exit !($M_OTHER >= 0.10)"; then
		disturbed+=("$1: other processes used $M_OTHER CPUs on average")
	fi
}

# ---------------------------------------------------------------- clips
# audio_src SECONDS: a lavfi graph of a 440 Hz tone over pink noise (a room's hiss). Not a bare
# tone: FFmpeg's AAC encoder is much slower on a pure sine with its "fast" coder (2.8 s against
# 0.9 s for 60 s here) and leaves it at ~80 kb/s, which says nothing about real recordings.
audio_src() {
	printf 'sine=frequency=440:sample_rate=48000:duration=%s[t];anoisesrc=color=pink:amplitude=0.05:sample_rate=48000:duration=%s[n];[t][n]amix=inputs=2[out0]' "$1" "$1"
}

# make_pair W H SECONDS MAXRATE LONG GOP2: the same testsrc2 (and audio_src) content twice in one ffmpeg run,
# once with a 20 s GOP (x264 may still cut at a scene change) and once with key frames exactly
# every 2 s. MAXRATE keeps the 2 s-GOP copy within twice the rung's cap, as the fast path asks.
make_pair() {
	local w=$1 h=$2 s=$3 max=$4 long=$5 gop2=$6
	local common=(-c:v libx264 -preset fast -crf 23 -maxrate "$max" -bufsize "$((${max%k} * 2))k"
		-pix_fmt yuv420p -c:a aac -b:a 128k -ac 2 -movflags +faststart)
	run ffmpeg -hide_banner -nostdin -loglevel error -y \
		-f lavfi -i "testsrc2=size=${w}x${h}:rate=30:duration=$s" \
		-f lavfi -i "$(audio_src "$s")" \
		-map 0:v -map 1:a "${common[@]}" -g 600 "$long" \
		-map 0:v -map 1:a "${common[@]}" -g 60 -keyint_min 60 -sc_threshold 0 "$gop2"
}

mkdir -p "$tmp/in"
log "generating ${clip_sec} s 1280x720 30 fps H.264/AAC clips (GOP 20 s and 2 s)"
measure make_pair 1280 720 "$clip_sec" 4000k "$tmp/in/clip720-gop20s.mp4" "$tmp/in/clip720-gop2s.mp4" ||
	die "ffmpeg could not make the 720p clips"
gen720_wall=$M_WALL
log "generating ${clip_sec} s 640x360 clips (GOP 20 s and 2 s)"
measure make_pair 640 360 "$clip_sec" 1200k "$tmp/in/clip360-gop20s.mp4" "$tmp/in/clip360-gop2s.mp4" ||
	die "ffmpeg could not make the 360p clips"
gen360_wall=$M_WALL

# ---------------------------------------------------------------- the phone clip
phone_clip=
phone_note=
find_phone() {
	local d=$tmp/phone deb f
	if [[ $phone == 0 ]]; then
		phone_note="skipped (BENCH_PHONE=0)"
		return 0
	fi
	if [[ $phone != 1 ]]; then
		[[ -r $phone ]] || { phone_note="BENCH_PHONE=$phone is not a readable file: skipped"; return 0; }
		phone_clip=$phone
		return 0
	fi
	if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
		phone_note="no apt-get/dpkg-deb here: skipped"
		return 0
	fi
	mkdir -p "$d"
	log "fetching forensics-samples-files (apt-get download) for a real phone clip"
	if ! (cd "$d" && timeout 300 apt-get download forensics-samples-files >"$d/apt.log" 2>&1); then
		phone_note="apt-get download forensics-samples-files failed ($(tail -n 1 "$d/apt.log")): skipped"
		return 0
	fi
	deb=$(find "$d" -maxdepth 1 -name 'forensics-samples-files_*.deb' | head -n 1)
	if [[ -z $deb ]] || ! dpkg-deb -x "$deb" "$d/x" 2>"$d/dpkg.log"; then
		phone_note="could not unpack forensics-samples-files: skipped"
		return 0
	fi
	# Phone cameras name their files VID_…, IMG_…, PXL_…, MOV_…: those first.
	while IFS= read -r f; do
		if ffprobe -v error -select_streams v:0 -show_entries stream=codec_type -of csv=p=0 "$f" 2>/dev/null |
			grep -q video; then
			phone_clip=$f
			break
		fi
	done < <(find "$d/x" -type f \( -iname '*.mp4' -o -iname '*.mov' -o -iname '*.3gp' \) |
		awk -F/ '{ print ($NF ~ /^(VID|IMG|PXL|MOV)_/ ? 0 : 1) "\t" $0 }' | sort | cut -f2-)
	[[ -n $phone_clip ]] || phone_note="forensics-samples-files holds no .mp4/.mov/.3gp with video: skipped"
}
find_phone
[[ -z $phone_note ]] || log "phone clip: $phone_note"

# ---------------------------------------------------------------- probing
# probe_video FILE: "width height fps key_gap_ms audio_rate vbitrate duration codec profile"
# (audio_rate 0 = no audio).
probe_video() {
	local f=$1 w h fr rate gap vbr dur codec prof
	IFS=, read -r codec prof w h fr vbr < <(ffprobe -v error -select_streams v:0 \
		-show_entries stream=codec_name,profile,width,height,r_frame_rate,bit_rate -of csv=p=0 "$f" |
		awk 'NF' | head -n 1)
	rate=$(ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate -of csv=p=0 "$f" |
		awk 'NF {print; exit}')
	dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f" | awk 'NF {print; exit}')
	# As probe_keyframe_gap_ms(): the longest distance between key frames, the end included.
	gap=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,flags -of csv=p=0 "$f" |
		awk -F, -v end="${dur:-0}" '$2 ~ /K/ { if (n++ && ($1 - p) * 1000 > g) g = ($1 - p) * 1000; p = $1 }
			END { if (n && (end - p) * 1000 > g) g = (end - p) * 1000; printf "%d", g }')
	[[ $vbr =~ ^[0-9]+$ ]] || vbr=0
	[[ $rate =~ ^[0-9]+$ ]] || rate=0
	printf '%s %s %s %s %s %s %s %s %s\n' "$w" "$h" \
		"$(awk -v f="$fr" 'BEGIN { split(f, a, "/"); printf "%.4f", a[2] ? a[1] / a[2] : a[1] }')" \
		"${gap:-0}" "${rate:-0}" "${vbr:-0}" "${dur:-0}" "$codec" "${prof// /_}"
}

# out_stats DIR NAME: one line for a rendition of an output directory:
# "WxH segments bytes video_kbps peak2s_kbps keyframes max_key_gap_s max_segment_s audio_kbps"
out_stats() {
	local dir=$1 name=$2 size segs bytes seg_max akbps
	size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 \
		"$dir/$name.m3u8" 2>/dev/null | awk 'NF {print; exit}')
	segs=$(find "$dir" -maxdepth 1 -name "${name}_*.ts" | wc -l)
	bytes=$(find "$dir" -maxdepth 1 -name "${name}_*.ts" -printf '%s\n' | awk '{s += $1} END {print s + 0}')
	seg_max=$(awk -F'[:,]' '/^#EXTINF:/ { if ($2 > m) m = $2 } END { printf "%.3f", m }' "$dir/$name.m3u8")
	akbps=$(ffprobe -v error -select_streams a:0 -show_entries packet=pts_time,duration_time,size \
		-of csv=p=0 "$dir/$name.m3u8" 2>/dev/null | awk -F, 'NF >= 3 && $1 != "N/A" {
			if (n++ == 0) t0 = $1; t1 = $1 + $2; s += $3 }
		END { printf "%.0f", (n && t1 > t0) ? s * 8 / (t1 - t0) / 1000 : 0 }')
	ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,size,flags -of csv=p=0 \
		"$dir/$name.m3u8" 2>/dev/null | awk -F, -v size="${size:-?}" -v segs="$segs" -v bytes="$bytes" \
		-v seg_max="$seg_max" -v akbps="$akbps" 'NF >= 3 && $1 != "N/A" {
			t = $1 + 0; if (n == 0) t0 = t; n++; s += $2; w[int((t - t0) / 2)] += $2
			if (t > last) last = t
			if ($3 ~ /K/) { k++; if (k > 1 && t - kp > gap) gap = t - kp; kp = t } }
		END {
			d = last - t0; if (d <= 0) d = 1
			for (i in w) if (w[i] > pk) pk = w[i]
			printf "%s %d %d %.0f %.0f %d %.3f %s %s\n", size, segs, bytes, s * 8 / d / 1000,
				pk * 8 / 2 / 1000, k, gap, seg_max, akbps }'
}

# ---------------------------------------------------------------- ours and the peer
# GNU time (Debian: time), when there, records each run's peak RSS (%M, KiB) in OUTDIR.rss.
have_time=0
[[ -x /usr/bin/time ]] && have_time=1
timed() { # OUTDIR CMD...
	local out=$1
	shift
	if ((have_time)); then
		run /usr/bin/time -f %M -o "$out.rss" "$@"
	else
		run "$@"
	fi
}

# ours INPUT OUTDIR: `shuxiang transcode`, output in OUTDIR.txt
ours() {
	timed "$2" "$bin" transcode --progress no --threads "$threads" "$1" "$2" >"$2.txt" 2>"$2.err"
}

# Read from a run of ours (OUTDIR.txt): R_NAME, R_W, R_H, R_COPY arrays and OURS_SECONDS.
parse_ours() {
	local txt=$1 name size copied
	R_NAME=() R_W=() R_H=() R_COPY=()
	OURS_SECONDS=$(awk -F'\t' '$1 == "seconds" {print $2}' "$txt")
	while IFS=$'\t' read -r name size _ _ copied; do
		[[ $name == seconds || $name == duration_ms || $name == chapter ]] && continue
		R_NAME+=("$name")
		R_W+=("${size%x*}")
		R_H+=("${size#*x}")
		R_COPY+=("$([[ $copied == copied ]] && echo 1 || echo 0)")
	done <"$txt"
	((${#R_NAME[@]})) || die "no rendition lines in $txt: $(head -c 300 "$txt") $(head -c 300 "${txt%.txt}.err")"
}

# peer_cmd INPUT OUTDIR: the ffmpeg command for the renditions parse_ours read, into PEER.
peer_cmd() {
	local in=$1 out=$2 w h fps gap arate i k n_enc=0 gop fc='' chain=() maps=() opts=() tee=''
	local src_label sel kf any_copy=0
	read -r w h fps gap arate _ < <(probe_video "$in")
	for i in "${!R_NAME[@]}"; do
		((R_COPY[i])) && any_copy=1 || n_enc=$((n_enc + 1))
	done
	# As open_video_encoder(): 2 s GOP, or (a rung copied) key frames from the source's and a
	# GOP x264 never reaches on its own.
	if ((any_copy)); then
		gop=$(calc "printf \"%d\", int($fps * ($gap + 2000) / 1000) + 1")
		kf=source
	else
		gop=$(calc "printf \"%d\", int($fps * 2 + 0.5)")
		kf='expr:gte(t,n_forced*2)'
	fi
	PEER=(ffmpeg -hide_banner -nostdin -loglevel error -y -threads "$threads" -i "$in"
		-filter_threads 1)
	((n_enc >= 2)) && fc="[0:v]split=$n_enc$(for ((k = 0; k < n_enc; k++)); do printf '[p%d]' "$k"; done)"
	k=0
	for i in "${!R_NAME[@]}"; do
		if ((R_COPY[i])); then
			maps+=(-map 0:v:0)
			opts+=("-c:v:$i" copy)
			continue
		fi
		if ((n_enc >= 2)); then src_label="[p$k]"; else src_label="[0:v:0]"; fi
		if ((R_W[i] != w || R_H[i] != h)); then
			chain+=("${src_label}scale=${R_W[i]}:${R_H[i]}:flags=bicubic[e$k]")
			maps+=(-map "[e$k]")
		elif ((n_enc >= 2)); then
			maps+=(-map "$src_label")
		else
			maps+=(-map 0:v:0)
		fi
		local max=${rung_max[${R_NAME[i]}]:-800000}
		opts+=("-c:v:$i" libx264 "-preset:v:$i" veryfast "-crf:v:$i" 23 "-g:v:$i" "$gop"
			"-keyint_min:v:$i" "$gop" "-x264-params:v:$i" scenecut=0 "-forced-idr:v:$i" 1
			"-force_key_frames:v:$i" "$kf" "-maxrate:v:$i" "$max" "-bufsize:v:$i" "$((max * 2))"
			"-pix_fmt:v:$i" yuv420p "-flags:v:$i" +global_header "-fps_mode:v:$i" passthrough)
		k=$((k + 1))
	done
	for c in "${chain[@]}"; do
		fc+="${fc:+;}$c"
	done
	[[ -n $fc ]] && PEER+=(-filter_complex "$fc")
	PEER+=("${maps[@]}")
	if ((arate > 0)); then
		PEER+=(-map 0:a:0 -c:a aac -aac_coder "$aac_coder" -b:a 128k -ac 2 -ar "$( ((arate == 44100 || arate == 48000)) && echo "$arate" || echo 48000)")
	fi
	PEER+=("${opts[@]}" -threads "$threads")
	for i in "${!R_NAME[@]}"; do
		sel="v:$i"
		((arate > 0)) && sel+=",a"
		tee+="${tee:+|}[select=\\'$sel\\':f=hls:hls_time=6:hls_playlist_type=vod:hls_list_size=0"
		tee+=":hls_segment_type=mpegts:hls_flags=independent_segments"
		tee+=":hls_segment_filename=$out/${R_NAME[i]}_%03d.ts]$out/${R_NAME[i]}.m3u8"
	done
	PEER+=(-f tee "$tee")
}

peer() { # OUTDIR (made empty by fresh())
	timed "$1" "${PEER[@]}" >"$1.txt" 2>"$1.err"
}

fresh() { rm -rf "$1" && mkdir -p "$1"; } # outside the measured time
how() { ((R_COPY[$1])) && echo copied || echo encoded; }

# Results per case: wall/CPU/other lists, and ours' own "seconds".
declare -A W=() C=() O=() S=() X=()
add() { # key outdir
	W[$1]+="$M_WALL " C[$1]+="$M_CPU " O[$1]+="$M_OTHER "
	if [[ -s $2.rss ]]; then X[$1]+="$(tail -n 1 "$2.rss") "; fi
}

# ladder_case LABEL INPUT: ours and the peer, alternating, BENCH_RUNS times each.
ladder_case() {
	local label=$1 in=$2 r
	for ((r = 1; r <= runs; r++)); do
		local order=(ours peer)
		((r % 2)) || order=(peer ours)
		for who in "${order[@]}"; do
			if [[ $who == ours ]]; then
				log "$label: shuxiang transcode, run $r of $runs"
				rm -rf "$tmp/out/$label-ours"
				measure ours "$in" "$tmp/out/$label-ours" ||
					die "shuxiang transcode $in failed: $(tail -c 400 "$tmp/out/$label-ours.err")"
				note_other "$label ours run $r"
				add "$label-ours" "$tmp/out/$label-ours"
				parse_ours "$tmp/out/$label-ours.txt"
				S[$label]+="$OURS_SECONDS "
				[[ -v "PEER_FOR[$label]" ]] || { peer_cmd "$in" "$tmp/out/$label-ffmpeg"; PEER_FOR[$label]=1; }
			else
				if [[ ! -v "PEER_FOR[$label]" ]]; then
					# the peer needs our renditions: ours goes first in run 1 anyway
					continue
				fi
				log "$label: ffmpeg, run $r of $runs"
				fresh "$tmp/out/$label-ffmpeg"
				measure peer "$tmp/out/$label-ffmpeg" ||
					die "ffmpeg failed: $(tail -c 600 "$tmp/out/$label-ffmpeg.err")"
				note_other "$label ffmpeg run $r"
				add "$label-ffmpeg" "$tmp/out/$label-ffmpeg"
			fi
		done
	done
	printf '%q ' "${PEER[@]}" >"$tmp/out/$label-ffmpeg.cmd"
	for i in "${!R_NAME[@]}"; do
		STATS["$label-ours-${R_NAME[i]}"]="$(out_stats "$tmp/out/$label-ours" "${R_NAME[i]}") $(how "$i")"
		STATS["$label-ffmpeg-${R_NAME[i]}"]="$(out_stats "$tmp/out/$label-ffmpeg" "${R_NAME[i]}") $(how "$i")"
	done
	RENDS[$label]="${R_NAME[*]}"
}

# ours_case KEY INPUT: ours only, BENCH_RUNS times; keeps the renditions it reported.
ours_case() {
	local key=$1 in=$2 r i
	for ((r = 1; r <= runs; r++)); do
		log "$key: shuxiang transcode, run $r of $runs"
		rm -rf "$tmp/out/$key"
		measure ours "$in" "$tmp/out/$key" ||
			die "shuxiang transcode $in failed: $(tail -c 400 "$tmp/out/$key.err")"
		note_other "$key run $r"
		add "$key" "$tmp/out/$key"
		parse_ours "$tmp/out/$key.txt"
		S[$key]+="$OURS_SECONDS "
	done
	COPIED[$key]=
	for i in "${!R_NAME[@]}"; do
		STATS["$key-${R_NAME[i]}"]="$(out_stats "$tmp/out/$key" "${R_NAME[i]}") $(how "$i")"
		((R_COPY[i])) && COPIED[$key]+="${R_NAME[i]} "
	done
	RENDS[$key]="${R_NAME[*]}"
}

declare -A PEER_FOR=() STATS=() RENDS=() COPIED=()
mkdir -p "$tmp/out"

# ---------------------------------------------------------------- ladder (and phone)
ladder_case ladder "$tmp/in/clip720-gop20s.mp4"
if [[ -n $phone_clip ]]; then
	ladder_case phone "$phone_clip"
fi

# ---------------------------------------------------------------- remux fast path
ours_case copy720 "$tmp/in/clip720-gop2s.mp4"
ours_case copy360 "$tmp/in/clip360-gop2s.mp4"
ours_case enc360 "$tmp/in/clip360-gop20s.mp4"
# The floor for the pure copy: ffmpeg copying the video and encoding the audio, once.
R_NAME=(360p) R_W=(640) R_H=(360) R_COPY=(1)
peer_cmd "$tmp/in/clip360-gop2s.mp4" "$tmp/out/copy360-ffmpeg"
for ((r = 1; r <= runs; r++)); do
	log "copy360: ffmpeg -c:v copy, run $r of $runs"
	fresh "$tmp/out/copy360-ffmpeg"
	measure peer "$tmp/out/copy360-ffmpeg" || die "ffmpeg failed: $(tail -c 600 "$tmp/out/copy360-ffmpeg.err")"
	note_other "copy360 ffmpeg run $r"
	add copy360-ffmpeg "$tmp/out/copy360-ffmpeg"
done
rm -rf "$tmp/out/"*/

# ---------------------------------------------------------------- memory: the server
sx=
jar=
password=
# jfield KEY JSON: the first "KEY": scalar (the job's own keys come before its result's).
jfield() { grep -o "\"$1\":[^,}]*" <<<"$2" | head -n 1 | cut -d: -f2- | tr -d '"'; }

declare -A mem=()
upload() { # file
	local code
	code=$(api -o "$tmp/upload.json" -w '%{http_code}' -F "file=@$1;type=video/mp4" \
		"$sx/api/v1/staff/uploads") || return 1
	[[ $code == 202 ]] || { log "upload answered $code: $(head -c 300 "$tmp/upload.json")"; return 1; }
}
# Polls the job every second until it ends; one line per poll in $tmp/samples:
# "seconds-since-upload state progress eta_seconds VmRSS-kB".
poll_job() { # id
	local id=$1 t0=$EPOCHREALTIME j st p e rss last=0 now
	: >"$tmp/samples"
	while :; do
		j=$(api "$sx/api/v1/staff/jobs/$id") || return 1
		rss=$(rss_kb)
		now=$(calc "printf \"%.1f\", $EPOCHREALTIME - $t0")
		st=$(jfield state "$j")
		p=$(jfield progress "$j")
		e=$(jfield eta_seconds "$j")
		printf '%s %s %s %s %s\n' "$now" "$st" "${p:-?}" "${e:-null}" "$rss" >>"$tmp/samples"
		[[ $st == 'done' || $st == failed || $st == cancelled ]] && break
		alive "$sx_pid" || return 1
		if calc "exit !($now - $last >= 30)"; then
			last=$now
			log "  … ${now}s: $st ${p:-?}%, eta ${e:-null} s, VmRSS $rss kB"
		fi
		sleep 1
	done
	printf '%s' "$j" >"$tmp/job.json"
}

if ((long_min > 0)); then
	long_clip=$tmp/in/long-${long_min}min.mp4
	log "generating a ${long_min}-minute 1280x720 30 fps clip (x264 ultrafast, GOP 20 s)"
	gen_long() {
		run ffmpeg -hide_banner -nostdin -loglevel error -y \
			-f lavfi -i "testsrc2=size=1280x720:rate=30:duration=$((long_min * 60))" \
			-f lavfi -i "$(audio_src $((long_min * 60)))" \
			-c:v libx264 -preset ultrafast -g 600 -pix_fmt yuv420p -c:a aac -b:a 128k -ac 2 \
			-movflags +faststart "$long_clip"
	}
	measure gen_long || die "ffmpeg could not make the long clip"
	mem[gen]=$M_WALL
	mem[bytes]=$(stat -c %s "$long_clip")
	read -r _ _ _ 'mem[gap]' _ 'mem[vbr]' _ < <(probe_video "$long_clip")
	log "memory: serve transcodes an upload of $(calc "printf \"%.0f\", ${mem[bytes]} / 1048576") MiB"
	start_server "$tmp/data"
	sleep 2 # let the sign-in's hashing memory go back
	mem[idle]=$(rss_kb)
	mem[hwm0]=$(hwm_kb)
	measure upload "$long_clip" || die "upload failed"
	mem[up]=$M_WALL
	mem[rss_up]=$(rss_kb)
	mem[hwm_up]=$(hwm_kb)
	rm -f "$long_clip"
	id=$(sed -n 's/.*"job":{"id":\([0-9]*\).*/\1/p' "$tmp/upload.json")
	[[ -n $id ]] || die "no job id in the upload answer: $(head -c 300 "$tmp/upload.json")"
	mem[kind]=$(jfield kind "$(cat "$tmp/upload.json")")
	measure poll_job "$id" || die "shuxiang died or stopped answering while transcoding"
	mem[wall]=$M_WALL mem[cpu]=$M_CPU mem[other]=$M_OTHER
	note_other "memory (server transcode)"
	mem[hwm]=$(hwm_kb)
	mem[rss_end]=$(rss_kb)
	j=$(cat "$tmp/job.json")
	mem[state]=$(jfield state "$j")
	mem[started]=$(jfield started_at "$j")
	mem[finished]=$(jfield finished_at "$j")
	mem[lane]=$(jfield lane "$j")
	[[ ${mem[state]} == 'done' ]] ||
		die "the video job ended ${mem[state]}: $(head -c 600 "$tmp/job.json")"
	mem[peak]=$(awk '{ if ($5 > m) m = $5 } END { print m }' "$tmp/samples")
	mem[peak_t]=$(awk -v m="${mem[peak]}" '$5 == m { print $1; exit }' "$tmp/samples")
	stop_pid "$sx_pid" shuxiang
	sx_pid=
fi

# ---------------------------------------------------------------- report
verdict() { calc "exit !($1)" && echo PASS || echo MISSED; }
missed=0
f3() { calc "printf \"%.3f\", $1"; }
f2() { calc "printf \"%.2f\", $1"; }
f1() { calc "printf \"%.1f\", $1"; }
# shellcheck disable=SC2086 # the lists are meant to be split
mw() { median ${W[$1]}; }
# shellcheck disable=SC2086
mc() { median ${C[$1]}; }
# shellcheck disable=SC2086
ms() { median ${S[$1]:-0}; }

cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
memtotal=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || true)
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "no commit")
dirty=$(git -C "$root" status --porcelain --untracked-files=no -- '*.c' '*.h' 2>/dev/null | wc -l)
echo
echo "Shuxiang transcode benchmark — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: $ncpu CPUs, ${cpu:-unknown CPU}, ${memtotal:-? GiB}; kernel $(uname -srm)"
echo "binary:  $bin (modified $(date -u -r "$bin" '+%Y-%m-%d %H:%M UTC'); git HEAD $rev$( ((dirty)) && echo ", $dirty C files modified in the tree"))"
x264=$(dpkg-query -W -f '${Package} ${Version}' 'libx264-[0-9]*' 2>/dev/null | head -n 1 || true)
echo "peer:    $(ffmpeg -version | head -n 1 | cut -d' ' -f1-3)${x264:+, $x264 (the libx264 both use)}; threads $threads each (ours: --threads $threads); peer AAC coder $aac_coder"
if [[ $root/media/transcode.c -nt $bin ]]; then
	echo "WARNING: media/transcode.c is newer than the binary: the peer's settings follow the source"
fi
echo "loadavg: $load_start before the run (anything else running skews the figures)"
echo "runs:    $runs of each timed case, median; ladder and phone alternate ours and ffmpeg"
echo

row() { printf '| %-9s | %-42s | %-42s | %7s | %-13s | %-6s |\n' "$@"; }
row case shuxiang "peer / baseline" ratio target result
echo "|-----------|--------------------------------------------|--------------------------------------------|--------:|---------------|--------|"
for label in ladder phone; do
	[[ -n ${W[$label-ours]:-} && -n ${W[$label-ffmpeg]:-} ]] || continue
	ratio=$(f3 "$(mw "$label-ours") / $(mw "$label-ffmpeg")")
	v=$(verdict "$ratio <= $target_ratio")
	[[ $label == ladder ]] || v="($v)"
	[[ $v == MISSED ]] && missed=1
	row "$label" "$(mw "$label-ours") s ($(mc "$label-ours") s CPU)" \
		"ffmpeg $(mw "$label-ffmpeg") s ($(mc "$label-ffmpeg") s CPU)" "$ratio" "<= $target_ratio" "$v"
done
copy_row() { # label key baseline-key what
	local sp v
	sp=$(f1 "$(mw "$3") / $(mw "$2")")
	v=$(verdict "$sp >= $target_copy")
	[[ $v == MISSED ]] && missed=1
	row "$1" "$(mw "$2") s ($(mc "$2") s CPU), copied: ${COPIED[$2]:-none}" \
		"$4 $(mw "$3") s ($(mc "$3") s CPU)" "${sp}x" ">= ${target_copy}x" "$v"
}
copy_row "copy 720p" copy720 ladder-ours "ours, 20 s GOP:"
copy_row "copy 360p" copy360 enc360 "ours, 20 s GOP:"
if ((long_min > 0)); then
	grow=$(calc "printf \"%.1f\", (${mem[peak]} - ${mem[idle]}) / 1024")
	v=$(verdict "$grow <= $target_mem")
	[[ $v == MISSED ]] && missed=1
	row memory "VmRSS peak $(f1 "${mem[peak]} / 1024") MiB ($long_min min clip)" \
		"VmRSS idle $(f1 "${mem[idle]} / 1024") MiB" "+$grow" "<= +$target_mem MiB" "$v"
fi
echo
echo "ratio: ladder/phone = ours ÷ ffmpeg (wall time); copy = transcoding ÷ copying (speed-up); memory = peak − idle, MiB"
printf 'ours'"'"' own "seconds" (transcode only, median): ladder %s, phone %s, copy720 %s, copy360 %s, enc360 %s\n' \
	"$(ms ladder)" "$(ms phone)" "$(ms copy720)" "$(ms copy360)" "$(ms enc360)"
echo "copy 360p floor: ffmpeg -c:v copy + aac → hls $(mw copy360-ffmpeg) s ($(mc copy360-ffmpeg) s CPU)"
echo
echo "Every run (wall s / CPU s / CPUs used by other processes meanwhile$( ((have_time)) && echo " / peak RSS MiB")):"
for key in ladder-ours ladder-ffmpeg phone-ours phone-ffmpeg copy720 copy360 enc360 copy360-ffmpeg; do
	[[ -n ${W[$key]:-} ]] || continue
	read -r -a ws <<<"${W[$key]}"
	read -r -a cs <<<"${C[$key]}"
	read -r -a os <<<"${O[$key]}"
	read -r -a xs <<<"${X[$key]:-}"
	line=
	for i in "${!ws[@]}"; do
		line+="  ${ws[i]}/${cs[i]}/${os[i]}"
		[[ -n ${xs[i]:-} ]] && line+="/$(f1 "${xs[i]} / 1024")"
	done
	printf '  %-15s%s\n' "$key" "$line"
done

echo
echo "Inputs:"
for f in clip720-gop20s clip720-gop2s clip360-gop20s clip360-gop2s; do
	read -r w h fps gap arate vbr dur codec prof < <(probe_video "$tmp/in/$f.mp4")
	printf '  %-16s %sx%s %s fps %s %s, video %s kb/s, max key-frame gap %s ms, audio %s Hz, %s s, %s bytes\n' \
		"$f.mp4" "$w" "$h" "$fps" "$codec" "$prof" "$((vbr / 1000))" "$gap" "$arate" "$dur" \
		"$(stat -c %s "$tmp/in/$f.mp4")"
done
echo "  (made in ${gen720_wall} s and ${gen360_wall} s)"
if [[ -n $phone_clip ]]; then
	read -r w h fps gap arate vbr dur codec prof < <(probe_video "$phone_clip")
	printf '  phone clip       %s: %sx%s %s fps %s %s, video %s kb/s, max key-frame gap %s ms, audio %s Hz, %s s, %s bytes\n' \
		"${phone_clip#"$tmp/phone/x"}" "$w" "$h" "$fps" "$codec" "$prof" "$((vbr / 1000))" "$gap" \
		"$arate" "$dur" "$(stat -c %s "$phone_clip")"
else
	echo "  phone clip: $phone_note"
fi

echo
echo "Outputs (last run of each): size, segments, bytes of .ts, video kb/s (average; highest 2 s window), key frames, longest key-frame gap s, longest segment s, audio kb/s"
orow() { printf '  %-15s %-5s %-10s %4s %10s %7s %8s %5s %7s %7s %6s  %s\n' "$@"; }
orow output rung size segs bytes "kb/s" "peak2s" keys "keygap" "segmax" "audio" how
for key in ladder-ours ladder-ffmpeg phone-ours phone-ffmpeg copy720 copy360 enc360; do
	base=${key%-ours}
	base=${base%-ffmpeg}
	[[ -n ${RENDS[$base]:-} ]] || continue
	for name in ${RENDS[$base]}; do
		[[ -n ${STATS[$key-$name]:-} ]] || continue
		# shellcheck disable=SC2086 # the stats line is meant to be split
		orow "$key" "$name" ${STATS[$key-$name]}
	done
done
for label in ladder phone; do
	[[ -n ${RENDS[$label]:-} ]] || continue
	for name in ${RENDS[$label]}; do
		read -r _ _ ob _ <<<"${STATS[$label-ours-$name]}"
		read -r _ _ fb _ <<<"${STATS[$label-ffmpeg-$name]}"
		echo "  $label $name: ours/ffmpeg bytes = $(f3 "$ob / ($fb > 0 ? $fb : 1)")"
	done
done
echo
echo "ffmpeg command (ladder; OUT = its output directory):"
sed "s#$tmp/out/ladder-ffmpeg#OUT#g; s#$tmp/in/##g" "$tmp/out/ladder-ffmpeg.cmd"
echo
echo

if ((long_min > 0)); then
	echo "Memory: \`serve\` (defaults: job_threads 2, transcode_threads 1, the transcode on 2 threads) transcoding one upload:"
	echo "  clip: ${long_min} min 1280x720 30 fps H.264 (x264 ultrafast, max key-frame gap ${mem[gap]} ms, so no rung is copied) + AAC, $(calc "printf \"%.0f\", ${mem[bytes]} / 1048576") MiB, video $((mem[vbr] / 1000)) kb/s; made in ${mem[gen]} s"
	echo "  job: kind ${mem[kind]:-?}, lane ${mem[lane]:-?}, ${mem[state]}; upload ${mem[up]} s, then ${mem[wall]} s until the poll saw it done (server: started_at → finished_at $((mem[finished] - mem[started])) s); server CPU ${mem[cpu]} s; $(f2 "$long_min * 60 / ${mem[wall]}")× real time"
	echo "  VmRSS: idle ${mem[idle]} kB (after sign-in), ${mem[rss_up]} kB after the upload, peak ${mem[peak]} kB (at ${mem[peak_t]} s), ${mem[rss_end]} kB at the end; VmHWM ${mem[hwm0]} kB before the upload (sign-in hashing), ${mem[hwm_up]} kB after it, ${mem[hwm]} kB at the end"
	if [[ -n ${X[ladder-ours]:-} && -n ${X[ladder-ffmpeg]:-} ]]; then
		# shellcheck disable=SC2086 # the lists are meant to be split
		echo "  for comparison, peak RSS of the whole CLI process making the same ladder of the ${clip_sec} s clip (median): ours $(f1 "$(median ${X[ladder-ours]}) / 1024") MiB, ffmpeg $(f1 "$(median ${X[ladder-ffmpeg]}) / 1024") MiB"
	fi
	echo "  progress and ETA (remaining = when the poll saw it done − then):"
	printf '    %8s %8s %8s %10s %12s %10s\n' "t s" progress "eta s" "remaining" "eta error" "VmRSS kB"
	end_t=$(awk 'END {print $1}' "$tmp/samples")
	awk -v end="$end_t" 'BEGIN { split("1 5 10 25 50 75 80 85 90 95", want, " "); w = 1 }
		$2 == "running" && $3 != "?" {
			while (w in want && $3 + 0 >= want[w] + 0) {
				if ($1 != shown) {
					rem = end - $1
					err = ($4 == "null") ? "-" : sprintf("%+.0f%%", rem > 0 ? ($4 - rem) * 100 / rem : 0)
					printf "    %8.1f %7d%% %8s %10.1f %12s %10d\n", $1, $3, $4, rem, err, $5
					shown = $1
				}
				w++
			} }' "$tmp/samples"
	awk -v end="$end_t" '$2 == "running" && $3 >= 10 && $4 != "null" {
			rem = end - $1; if (rem < 5) next; e = ($4 - rem) / rem; if (e < 0) e = -e; s += e; n++
			if (e > m) m = e }
		END { if (n) printf "  ETA error over %d polls from 10 %% on (remaining ≥ 5 s): mean %.0f %%, worst %.0f %%\n", n, s * 100 / n, m * 100 }' \
		"$tmp/samples"
	echo
fi

if ((${#disturbed[@]})); then
	echo "DISTURBED (other processes competed for the CPUs):"
	printf '  %s\n' "${disturbed[@]}"
	echo
fi
echo "total time of the benchmark: $(calc "printf \"%.0f\", $EPOCHREALTIME - $bench_start") s"
if ((missed)) && [[ $strict == 1 ]]; then
	exit 1
fi
exit 0
