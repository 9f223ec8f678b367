use super::*;

fn spec(id: RouteId, path: &str, methods: &[Method]) -> RouteSpec {
    RouteSpec::http(id, path, methods.to_vec())
}

#[test]
fn groups_methods_by_path() {
    let table = RouteTable::new([
        spec(0, "/items/{id}", &[Method::GET]),
        spec(1, "/items/{id}", &[Method::PUT, Method::DELETE]),
        spec(2, "/", &[Method::GET]),
    ])
    .unwrap();
    assert_eq!(table.len(), 2);
    let entry = &table.paths["/items/{id}"];
    assert_eq!(
        entry.endpoints,
        vec![(Method::GET, 0), (Method::PUT, 1), (Method::DELETE, 1)]
    );
    assert_eq!(entry.allow_header(), "GET, HEAD, PUT, DELETE, OPTIONS");
}

#[test]
fn rejects_duplicates_conflicts_and_bad_paths() {
    let dup = RouteTable::new([spec(0, "/a", &[Method::GET]), spec(1, "/a", &[Method::GET])]);
    assert_eq!(
        dup.unwrap_err(),
        RouteError::DuplicateRoute {
            path: "/a".into(),
            method: Method::GET
        }
    );
    let conflict = RouteTable::new([
        spec(0, "/a/{x}", &[Method::GET]),
        spec(1, "/a/{y}", &[Method::GET]),
    ]);
    assert!(matches!(conflict, Err(RouteError::InvalidPath { .. })));
    let relative = RouteTable::new([spec(0, "a", &[Method::GET])]);
    assert!(matches!(relative, Err(RouteError::InvalidPath { .. })));
    let trace = RouteTable::new([spec(0, "/a", &[Method::TRACE])]);
    assert!(matches!(trace, Err(RouteError::UnsupportedMethod { .. })));
    let none = RouteTable::new([spec(0, "/a", &[])]);
    assert!(matches!(none, Err(RouteError::NoMethods { .. })));
}

#[test]
fn static_and_param_siblings_coexist() {
    let table = RouteTable::new([
        spec(0, "/users/me", &[Method::GET]),
        spec(1, "/users/{id}", &[Method::GET]),
        spec(2, "/files/{*rest}", &[Method::GET]),
    ]);
    assert!(table.is_ok());
}

#[test]
fn a_websocket_route_may_share_its_path_with_http_routes_once() {
    let table = RouteTable::new([
        spec(0, "/chat", &[Method::GET, Method::POST]),
        RouteSpec::websocket(1, "/chat"),
        RouteSpec::websocket(2, "/live"),
    ])
    .unwrap();
    let chat = &table.paths["/chat"];
    assert_eq!(chat.websocket, Some(1));
    assert_eq!(chat.endpoints, vec![(Method::GET, 0), (Method::POST, 0)]);
    assert_eq!(table.paths["/live"].allow_header(), "GET, HEAD, OPTIONS");
    let twice = RouteTable::new([
        RouteSpec::websocket(0, "/ws"),
        RouteSpec::websocket(1, "/ws"),
    ]);
    assert_eq!(
        twice.unwrap_err(),
        RouteError::DuplicateWebSocket { path: "/ws".into() }
    );
}
