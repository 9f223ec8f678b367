wrk.method = "OPTIONS"
wrk.headers["Origin"] = "https://app.example"
wrk.headers["Access-Control-Request-Method"] = "GET"
wrk.headers["Access-Control-Request-Headers"] = "x-token"
