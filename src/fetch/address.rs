//! Which hosts `fetch` may connect to. An untrusted list can name the cloud
//! metadata service (`169.254.169.254`, `metadata.google.internal`) or a
//! server can redirect there; its answers (credentials) would then be stored
//! as an "image" failure or worse. Link-local and cloud-metadata addresses are
//! refused before connecting: by name, by IP literal, and after DNS resolution
//! (the resolver below), for the first request and after every redirect.
//! Loopback and private networks stay allowed: researchers run local servers.
//! `--allow-host` lifts the refusal for the hosts it names.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Extra addresses treated as link-local, comma-separated. **Test-only**: it
/// lets the test suite point the policy at a loopback address it serves on
/// (`127.0.0.2`), since no test can reach a real metadata service. It can only
/// refuse more, never allow anything.
pub const TEST_LINK_LOCAL_ENV: &str = "TAGSCAPE_TEST_LINK_LOCAL";

/// Host names of cloud metadata services (GCP, AWS, Azure, Oracle, Alibaba...).
const METADATA_NAMES: &[&str] = &[
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
    "metadata.packet.net",
];

/// Cloud metadata addresses outside the link-local ranges.
const METADATA_ADDRESSES: &[IpAddr] = &[
    // AWS over IPv6 (Nitro).
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)),
    // Alibaba Cloud.
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
];

/// The refusal rules of one run.
#[derive(Clone, Debug, Default)]
pub struct AddressPolicy {
    /// Hosts (names or addresses, lowercase) fetched even when refused otherwise.
    allowed_hosts: Vec<String>,
    /// Addresses refused in addition to the built-in ones (see `TEST_LINK_LOCAL_ENV`).
    extra_refused: Vec<IpAddr>,
}

/// Why a host was refused; `Display` is the failure detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub host: String,
    /// The offending address, when it came from the URL or from DNS.
    pub address: Option<IpAddr>,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.address {
            Some(ip) if ip.to_string() != self.host => write!(
                f,
                "{} resolves to {ip}, a link-local or cloud-metadata address",
                self.host
            )?,
            Some(_) => write!(f, "{} is a link-local or cloud-metadata address", self.host)?,
            None => write!(f, "{} is a cloud-metadata host name", self.host)?,
        }
        write!(
            f,
            "; refused (pass --allow-host {} to fetch it anyway)",
            self.host
        )
    }
}

impl std::error::Error for Refused {}

impl AddressPolicy {
    /// The policy with `allowed_hosts` exempt, plus the test-only extra addresses.
    pub fn new(allowed_hosts: &[String]) -> AddressPolicy {
        let extra_refused = std::env::var(TEST_LINK_LOCAL_ENV)
            .map(|list| {
                list.split(',')
                    .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                    .collect()
            })
            .unwrap_or_default();
        AddressPolicy {
            allowed_hosts: allowed_hosts
                .iter()
                .map(|h| normalize_host(h.trim()))
                .collect(),
            extra_refused,
        }
    }

    fn allowed(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.allowed_hosts.contains(&host)
    }

    /// Whether `ip` is refused (link-local or cloud metadata).
    pub fn refuses_address(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            // `::ffff:169.254.169.254` is the IPv4 address.
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let link_local = match ip {
            IpAddr::V4(v4) => v4.is_link_local(),
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
        };
        link_local || METADATA_ADDRESSES.contains(&ip) || self.extra_refused.contains(&ip)
    }

    /// Checks a URL's host before any request: metadata names and refused IP
    /// literals (names are checked again after resolution, by `resolver`).
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        let Some(host) = url.host() else {
            return Ok(());
        };
        let text = match &host {
            Host::Domain(d) => d.to_string(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        };
        if self.allowed(&text) {
            return Ok(());
        }
        match host {
            Host::Domain(name) => self.check_name(name),
            Host::Ipv4(ip) => self.check_ip(&text, IpAddr::V4(ip)),
            Host::Ipv6(ip) => self.check_ip(&text, IpAddr::V6(ip)),
        }
    }

    fn check_name(&self, name: &str) -> Result<(), Refused> {
        let name = normalize_host(name);
        if METADATA_NAMES.contains(&name.as_str()) {
            return Err(Refused {
                host: name,
                address: None,
            });
        }
        Ok(())
    }

    fn check_ip(&self, host: &str, ip: IpAddr) -> Result<(), Refused> {
        if self.refuses_address(ip) {
            return Err(Refused {
                host: host.to_string(),
                address: Some(ip),
            });
        }
        Ok(())
    }

    /// A DNS resolver for reqwest that refuses a name when any of its
    /// addresses is refused (a mixed answer is how rebinding attacks start).
    pub fn resolver(policy: &Arc<AddressPolicy>) -> Arc<dyn Resolve> {
        Arc::new(CheckedResolver {
            policy: policy.clone(),
        })
    }
}

/// Lowercase, without the brackets of an IPv6 literal or a trailing dot.
fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct CheckedResolver {
    policy: Arc<AddressPolicy>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Box::new(e) as BoxError)?
                .collect();
            if !policy.allowed(&host) {
                policy
                    .check_name(&host)
                    .map_err(|e| Box::new(e) as BoxError)?;
                for addr in &addrs {
                    policy
                        .check_ip(&host, addr.ip())
                        .map_err(|e| Box::new(e) as BoxError)?;
                }
            }
            Ok::<Addrs, BoxError>(Box::new(addrs.into_iter()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &AddressPolicy, url: &str) -> bool {
        policy.check_url(&Url::parse(url).unwrap()).is_err()
    }

    #[test]
    fn link_local_and_metadata_are_refused_loopback_and_private_are_not() {
        let policy = AddressPolicy::default();
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.0.1/",
            "http://[fe80::1]/",
            "http://[febf::1]/",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:169.254.169.254]/",
            "http://100.100.100.200/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://METADATA.google.internal./",
        ] {
            assert!(refused(&policy, url), "{url}");
        }
        for url in [
            "http://127.0.0.1:8080/a.jpg",
            "http://[::1]/a.jpg",
            "http://10.0.0.5/a.jpg",
            "http://192.168.1.2/a.jpg",
            "http://172.16.0.1/a.jpg",
            "http://[fec0::1]/a.jpg",
            "http://169.255.0.1/a.jpg",
            "https://example.com/a.jpg",
        ] {
            assert!(!refused(&policy, url), "{url}");
        }
    }

    #[test]
    fn allow_host_lifts_the_refusal_for_that_host_only() {
        let policy =
            AddressPolicy::new(&["169.254.169.254".into(), "Metadata.Google.Internal".into()]);
        assert!(!refused(&policy, "http://169.254.169.254/x"));
        assert!(!refused(&policy, "http://metadata.google.internal/x"));
        assert!(refused(&policy, "http://169.254.1.1/x"));
        let policy = AddressPolicy::new(&["fe80::1".into()]);
        assert!(!refused(&policy, "http://[fe80::1]/x"));
    }
}
