use super::*;

fn supervisor(max_queue: usize, max_concurrency: usize) -> Supervisor<u32> {
    Supervisor::new(BackgroundLimits {
        max_queue,
        max_concurrency,
    })
}

#[test]
fn a_full_queue_refuses_and_hands_the_job_back() {
    let jobs = supervisor(2, 1);
    assert_eq!(jobs.submit(1), Ok(()));
    assert_eq!(jobs.submit(2), Ok(()));
    assert_eq!(jobs.submit(3), Err(SubmitError::QueueFull(3)));
    assert_eq!(jobs.metrics().queued, 2);
}

#[test]
fn starts_no_more_than_the_concurrency_limit() {
    let jobs = supervisor(10, 2);
    for n in 0..5 {
        assert!(jobs.submit(n).is_ok());
    }
    assert_eq!(jobs.start_ready(), vec![0, 1]);
    assert!(jobs.start_ready().is_empty());
    jobs.finished(JobOutcome::Completed);
    assert_eq!(jobs.start_ready(), vec![2]);
    let metrics = jobs.metrics();
    assert_eq!(
        (metrics.queued, metrics.running, metrics.completed),
        (2, 2, 1)
    );
}

#[test]
fn running_jobs_do_not_take_queue_room() {
    let jobs = supervisor(1, 4);
    assert!(jobs.submit(1).is_ok());
    assert_eq!(jobs.start_ready(), vec![1]);
    assert!(jobs.submit(2).is_ok());
}

#[test]
fn shutdown_refuses_new_jobs_and_counts_the_unstarted_as_dropped() {
    let jobs = supervisor(10, 1);
    for n in 0..3 {
        assert!(jobs.submit(n).is_ok());
    }
    let _ = jobs.start_ready();
    jobs.stop_accepting();
    assert_eq!(jobs.submit(9), Err(SubmitError::ShuttingDown(9)));
    assert_eq!(jobs.take_queued(), vec![1, 2]);
    jobs.finished(JobOutcome::Cancelled);
    let metrics = jobs.metrics();
    assert_eq!(
        (metrics.dropped, metrics.running, metrics.queued),
        (3, 0, 0)
    );
    assert!(jobs.is_idle());
}

#[test]
fn failures_are_counted_apart() {
    let jobs = supervisor(10, 10);
    assert!(jobs.submit(1).is_ok());
    assert!(jobs.submit(2).is_ok());
    let _ = jobs.start_ready();
    jobs.finished(JobOutcome::Failed);
    jobs.finished(JobOutcome::Completed);
    let metrics = jobs.metrics();
    assert_eq!((metrics.failed, metrics.completed), (1, 1));
}
