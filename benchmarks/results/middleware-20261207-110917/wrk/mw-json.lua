wrk.method = "GET"
wrk.headers["Origin"] = "https://app.example"
wrk.headers["Accept-Encoding"] = "gzip"
