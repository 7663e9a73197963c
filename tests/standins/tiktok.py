"""A stand-in for TikTok's public oEmbed endpoint: a real HTTP server, no internet.

- ``GET /oembed?url=<video url>`` answers as TikTok does for a known video (`add_video`):
  ``{"version": "1.0", "type": "video", "title", "author_url", "author_name",
  "author_unique_id", "width": "100%", "height": "100%", "html", "thumbnail_url",
  "thumbnail_width", "thumbnail_height", "provider_url": "https://www.tiktok.com",
  "provider_name": "TikTok", "embed_product_id", "embed_type": "video"}`` (the shape of TikTok's
  public answers; `html` carries TikTok's blockquote and its embed.js script, which the app
  must never render). An unknown video answers 404 with TikTok's error body.
- ``GET /thumbnails/<video id>.jpg``: the thumbnail, a small JPEG drawn by Pillow, with EXIF
  data the app must not keep.

Knobs: `fail_next(n, status=429|500|503, path=...)` answers the next `n` matching requests
with that status; `delay_next(n, seconds=...)` sleeps first (the client times out);
`thumbnail_body` replaces a video's thumbnail bytes (not an image, too large...);
`thumbnail_url` points a video's thumbnail elsewhere. `requests` lists every path asked for.

In tests: the `tiktok_standin` fixture (tests/conftest.py). Standalone:
``python -m tests.standins.tiktok --port 12112``.
"""

import argparse
import io
import json
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from programs.tiktok import VIDEO_PATH


def jpeg(color=(11, 93, 91), size=(72, 128)) -> bytes:
    """A small JPEG with an EXIF block (a camera's make), as real thumbnails may carry."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "StandinCam"  # Make
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


@dataclass
class Video:
    video_id: str
    handle: str
    title: str
    author_name: str
    thumbnail: bytes = field(default_factory=jpeg)
    thumbnail_url: str | None = None  # None: the stand-in's own thumbnail address


@dataclass
class Fault:
    remaining: int
    path: str
    status: int = 0
    seconds: float = 0.0


class TikTokStandin:
    def __init__(self) -> None:
        self.videos: dict[str, Video] = {}
        self.faults: list[Fault] = []
        self.requests: list[str] = []
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    def start(self, port: int = 0, host: str = "127.0.0.1") -> "TikTokStandin":
        self.server = _Server((host, port), _Handler)
        self.server.standin = self
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def oembed_url(self) -> str:
        return f"{self.url}/oembed"

    # --- the world and the knobs ---------------------------------------------------------

    def add_video(
        self,
        video_id: str = "7300000000000000001",
        *,
        handle: str = "joelbervell",
        title: str = "Myths about medicine #health",
        author_name: str = "Joel Bervell",
        **extra,
    ) -> str:
        """A public video; returns its canonical link."""
        with self.lock:
            self.videos[video_id] = Video(video_id, handle, title, author_name, **extra)
        return f"https://www.tiktok.com/@{handle}/video/{video_id}"

    def fail_next(self, n: int = 1, *, status: int = 503, path: str = "/") -> None:
        with self.lock:
            self.faults.append(Fault(n, path, status=status))

    def delay_next(self, n: int = 1, *, seconds: float, path: str = "/") -> None:
        with self.lock:
            self.faults.append(Fault(n, path, seconds=seconds))

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and path.startswith(fault.path):
                    fault.remaining -= 1
                    self.faults = [f for f in self.faults if f.remaining > 0]
                    return fault
        return None

    # --- answers -------------------------------------------------------------------------

    def handle(self, path: str, query: dict) -> tuple[int, str, bytes]:
        with self.lock:
            self.requests.append(path)
        fault = self._take_fault(path)
        if fault is not None and fault.seconds:
            self.stopping.wait(fault.seconds)
        elif fault is not None:
            return fault.status, "application/json", b'{"code": 400, "message": "busy"}'
        if path == "/oembed":
            return self._oembed(query.get("url", [""])[0])
        if path.startswith("/thumbnails/") and path.endswith(".jpg"):
            video = self.videos.get(path.removeprefix("/thumbnails/").removesuffix(".jpg"))
            if video is not None:
                return 200, "image/jpeg", video.thumbnail
        return 404, "text/plain", b"Not found"

    def _oembed(self, url: str) -> tuple[int, str, bytes]:
        parts = urlsplit(url)
        match = VIDEO_PATH.match(parts.path)
        video = self.videos.get(match["id"]) if match and "tiktok.com" in parts.netloc else None
        if video is None:
            body = {"code": 400, "message": "Something went wrong", "status_msg": "", "type": ""}
            return 404, "application/json", json.dumps(body).encode()
        canonical = f"https://www.tiktok.com/@{video.handle}/video/{video.video_id}"
        body = {
            "version": "1.0",
            "type": "video",
            "title": video.title,
            "author_url": f"https://www.tiktok.com/@{video.handle}",
            "author_name": video.author_name,
            "width": "100%",
            "height": "100%",
            "html": (
                f'<blockquote class="tiktok-embed" cite="{canonical}" '
                f'data-video-id="{video.video_id}" style="max-width: 605px;min-width: 325px;">'
                f"<section>{video.title}</section></blockquote> "
                '<script async src="https://www.tiktok.com/embed.js"></script>'
            ),
            "thumbnail_width": 720,
            "thumbnail_height": 1280,
            "thumbnail_url": video.thumbnail_url or f"{self.url}/thumbnails/{video.video_id}.jpg",
            "provider_url": "https://www.tiktok.com",
            "provider_name": "TikTok",
            "author_unique_id": video.handle,
            "embed_product_id": video.video_id,
            "embed_type": "video",
        }
        return 200, "application/json", json.dumps(body).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: TikTokStandin

    def handle_error(self, request, client_address) -> None:
        pass  # a client that timed out and closed its end


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        status, content_type, content = self.server.standin.handle(url.path, parse_qs(url.query))
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format, *args) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.standins.tiktok", description="Serve the TikTok oEmbed stand-in."
    )
    parser.add_argument("--port", type=int, default=12112)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    standin = TikTokStandin().start(port=args.port, host=args.host)
    link = standin.add_video()
    print(f"TikTok oEmbed stand-in at {standin.oembed_url}; a known video: {link}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
